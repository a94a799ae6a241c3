# Evaluates contrib/nix/default.nix, contrib/nix/module.nix and flake.nix
# without nixpkgs: a stub lib and stub packages stand in for it, so that
# every attribute the files define is forced (nix-instantiate --eval
# --strict) and the values the tests check come out as JSON.
{ src }:
let
  lib = rec {
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    cleanSourceWith = { src, filter }:
      assert filter "/x/build-asan" "directory" == false;
      assert filter "/x/src" "directory";
      "SRC";
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    mkOption = o: o;
    mkEnableOption = d: { default = false; description = d; };
    mkIf = cond: value: if cond then value else { };
    mkDefault = v: v;
    escapeShellArg = s: "'" + s + "'";
    genAttrs = names: f:
      builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    types = { package = "package"; str = "str"; };
  };
  stubPkgs = system: {
    inherit system;
    callPackage = f: args: "PKG-${system}";
  };
  pkg = import (src + "/contrib/nix/default.nix") {
    inherit lib;
    stdenv.mkDerivation = attrs: attrs;
    autoreconfHook = "autoreconfHook";
    pkg-config = "pkg-config";
    libbsd = "libbsd";
    inih = "inih";
    sqlite = "sqlite";
    bats.withLibraries = f: "bats+" + builtins.concatStringsSep "+"
      (f { bats-assert = "assert"; bats-support = "support"; });
    mandoc = "mandoc";
    nix = "nix";
    openssh = "openssh";
    perl = "perl";
    procps = "procps";
    util-linux = "util-linux";
  };
  module = import (src + "/contrib/nix/module.nix") {
    inherit lib;
    pkgs = stubPkgs "x86_64-linux";
    config.services.keep-paths-sweep = {
      enable = true;
      package = "PKG";
      interval = "hourly";
      minAge = "10m";
    };
  };
  flakeFile = import (src + "/flake.nix");
  flake = flakeFile.outputs {
    self = flake;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs lib.platforms.linux stubPkgs;
    };
  };
  sweep = module.config.systemd.services.keep-paths-sweep;
in
{
  inherit (pkg) pname version buildInputs nativeCheckInputs doCheck;
  optionNames = builtins.attrNames module.options.services.keep-paths-sweep;
  timer = module.config.systemd.timers.keep-paths-sweep.timerConfig.OnCalendar;
  script = sweep.script;
  hardening = {
    inherit (sweep.serviceConfig) ProtectSystem ReadWritePaths NoNewPrivileges;
  };
  flakeDescription = flakeFile.description;
  flakePackage = flake.packages.x86_64-linux.default;
  flakeCheck = flake.checks.aarch64-linux.keep-paths;
  flakeModule = builtins.attrNames flake.nixosModules;
}
