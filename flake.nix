{
  description = "keep-paths: hold Nix store paths alive for exactly as long as a pipe is open";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems
        (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        keep-paths = pkgs.callPackage ./contrib/nix/default.nix { };
        default = keep-paths;
      });

      # The package's check phase is the bats suite against a real Nix.
      checks = forAllSystems (pkgs: {
        keep-paths = self.packages.${pkgs.system}.keep-paths;
      });

      nixosModules.keep-paths-sweep = { pkgs, ... }: {
        imports = [ ./contrib/nix/module.nix ];
        services.keep-paths-sweep.package =
          nixpkgs.lib.mkDefault self.packages.${pkgs.system}.keep-paths;
      };
      nixosModules.default = self.nixosModules.keep-paths-sweep;
    };
}
