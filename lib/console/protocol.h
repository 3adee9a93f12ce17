// The control socket's line protocol, shared by the daemon's console and stunbox-cli.
#pragma once

#include <string_view>

namespace stunbox::console {

// Client -> server: one command per line ("\n"-terminated, at most
// kMaxLineLength bytes). Server -> client: the response text (zero or more
// "\n"-terminated lines), then one end line: kEndMarker followed by a status
// character and "\n". Status '0' = success, '1' = command error (the text
// says why), 'q' = quit: the server closes the connection after it.
// kEndMarker (EOT, 0x04) never appears in response text.
inline constexpr char kEndMarker = '\x04';
inline constexpr char kStatusOk = '0';
inline constexpr char kStatusError = '1';
inline constexpr char kStatusQuit = 'q';
inline constexpr size_t kMaxLineLength = 4096;

}  // namespace stunbox::console
