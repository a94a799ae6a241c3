# keep-paths for nixpkgs: callPackage ./contrib/nix/default.nix { }
# Built with nixpkgs' autotools conventions; the check phase runs the bats
# suite against the Nix it builds with, on private throwaway stores (the
# ssh-ng tests skip themselves when the build user cannot run sshd).
{ lib
, stdenv
, autoreconfHook
, pkg-config
, libbsd
, inih
, sqlite
, bats
, mandoc
, nix
, openssh
, perl
, procps
, util-linux
}:

stdenv.mkDerivation {
  pname = "keep-paths";
  # Keep in step with AC_INIT in configure.ac (a test checks).
  version = "0.1.0";

  src = lib.cleanSourceWith {
    src = ../..;
    filter = path: type:
      let base = baseNameOf path; in
      !(lib.hasPrefix "build" base) && base != "result" && base != ".git";
  };

  nativeBuildInputs = [ autoreconfHook pkg-config ];
  buildInputs = [ libbsd inih sqlite ];

  configureFlags = [ "--enable-werror" ];

  doCheck = true;
  nativeCheckInputs = [
    (bats.withLibraries (p: [ p.bats-assert p.bats-support ]))
    mandoc
    nix
    openssh
    perl
    procps
    util-linux
  ];
  # The suite runs the files one at a time: each starts its own daemon.
  enableParallelChecking = false;
  preCheck = ''
    export HOME=$TMPDIR
  '';

  meta = {
    description = "Hold Nix store paths alive for exactly as long as a pipe is open";
    longDescription = ''
      keep-paths registers temporary GC roots with a Nix store (the daemon,
      the local store, or a remote one over ssh-ng) and holds them for the
      lifetime of its parent's pipe: race-free, and nothing left behind.
      keep-paths-sweep removes stale durable session directories.
    '';
    platforms = lib.platforms.linux;
    mainProgram = "keep-paths";
  };
}
