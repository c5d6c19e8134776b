// SystemdNames: the names systemd answers to on D-Bus (its bus name, object path, interfaces
// and the errors we act on), from systemd's org.freedesktop.systemd1(5). One home for the
// daemon's Watch and the subcommands' Manager, so that both speak to the same systemd.
#pragma once

#include <string_view>

namespace jsn {

constexpr std::string_view kSystemdName = "org.freedesktop.systemd1";
constexpr std::string_view kSystemdPath = "/org/freedesktop/systemd1";
constexpr std::string_view kSystemdManagerInterface = "org.freedesktop.systemd1.Manager";
constexpr std::string_view kSystemdUnitInterface = "org.freedesktop.systemd1.Unit";
constexpr std::string_view kSystemdServiceInterface = "org.freedesktop.systemd1.Service";

// Manager.Subscribe() by a client already subscribed: harmless, the signals keep coming.
constexpr std::string_view kAlreadySubscribedError = "org.freedesktop.systemd1.AlreadySubscribed";
// A unit systemd has not loaded (GetUnit, StopUnit on an unknown unit).
constexpr std::string_view kNoSuchUnitError = "org.freedesktop.systemd1.NoSuchUnit";
// A unit systemd tried to load and could not (its file missing or broken).
constexpr std::string_view kLoadFailedError = "org.freedesktop.systemd1.LoadFailed";

}  // namespace jsn
