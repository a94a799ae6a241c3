# NixOS module: sweep stale keep-paths session directories on a timer.
#
#   imports = [ ./contrib/nix/module.nix ];
#   services.keep-paths-sweep.enable = true;
{ config, lib, pkgs, ... }:

let
  cfg = config.services.keep-paths-sweep;
  inherit (lib) mkEnableOption mkIf mkOption types;
in
{
  options.services.keep-paths-sweep = {
    enable = mkEnableOption "sweeping stale keep-paths session directories";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./default.nix { };
      description = "The keep-paths package.";
    };

    interval = mkOption {
      type = types.str;
      default = "daily";
      description = "When to sweep, as a systemd OnCalendar expression.";
    };

    minAge = mkOption {
      type = types.str;
      default = "5m";
      description = ''
        Never touch session directories younger than this (30s, 10m, 2h,
        1d): keep-paths-sweep's --min-age.
      '';
    };
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];

    systemd.services.keep-paths-sweep = {
      description = "Remove stale keep-paths session directories";
      documentation = [ "man:keep-paths-sweep(1)" ];
      unitConfig.ConditionPathIsDirectory = "/nix/var/nix/gcroots/per-user";
      script = ''
        set -- /nix/var/nix/gcroots/per-user/*/keep-paths
        [ -d "$1" ] || exit 0
        exec ${cfg.package}/bin/keep-paths-sweep --min-age ${lib.escapeShellArg cfg.minAge} "$@"
      '';
      serviceConfig = {
        Type = "oneshot";
        SuccessExitStatus = 2;
        ProtectSystem = "strict";
        ReadWritePaths = [ "/nix/var/nix/gcroots/per-user" ];
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        PrivateNetwork = true;
        NoNewPrivileges = true;
        CapabilityBoundingSet = [ "CAP_DAC_OVERRIDE" "CAP_DAC_READ_SEARCH" "CAP_FOWNER" ];
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        RestrictAddressFamilies = [ "AF_UNIX" ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" "~@privileged @resources" ];
        UMask = "0077";
      };
    };

    systemd.timers.keep-paths-sweep = {
      description = "Remove stale keep-paths session directories";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.interval;
        RandomizedDelaySec = "1h";
        Persistent = true;
      };
    };
  };
}
