// Dropping root after start-up (socket mode): look up the target user and group, switch every thread to them, verify.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/result.h"

namespace stunbox {

// A passwd entry, reduced to what a switch needs.
struct UserEntry {
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};

// Name lookups through NSS (getpwnam_r / getgrnam_r). nullopt = no such
// name; an Error = the lookup itself failed (NSS backend down, ...).
Result<std::optional<UserEntry>> find_user(const std::string& name);
Result<std::optional<gid_t>> find_group(const std::string& name);

// The identity to switch to, resolved once.
struct Identity {
  std::string user;   // names, for messages
  std::string group;
  uid_t uid = 0;
  gid_t gid = 0;
};

// `user` must not be empty; `group` "" = the user's primary group (named
// from the group database when it has an entry, else by number).
Result<Identity> resolve_identity(const std::string& user, const std::string& group);

// Whether this process can become `id`: it already is exactly `id` (real,
// effective and saved ids), or it runs as root with CAP_SETUID and
// CAP_SETGID. Meant to run before anything is bound, so a switch that
// cannot work fails at once. Error: "cannot switch to user X: why".
Status check_can_switch(const Identity& id);

// PR_SET_NO_NEW_PRIVS: execve can never grant privileges again (setuid
// binaries, file capabilities). The flag is per thread and inherited by
// threads created later, so call it before the first thread starts.
Status forbid_new_privileges();

// Switches the whole process to `id`: setgroups({gid}) (no supplementary
// groups), setresgid, setresuid. glibc runs each of these on every thread
// of the process (nptl's SIGSETXID broadcast), so threads started before
// the drop (console, metrics) switch with the caller. Then sets
// no_new_privs and verifies: real/effective/saved ids of every thread are
// the target's, no supplementary group but gid, and, for a non-root target,
// no capability left and setuid(0) refused. Already being `id` (not root)
// only sets no_new_privs and verifies. Error: "cannot switch to user X: why".
Status drop_privileges(const Identity& id);

// resolve_identity + check_can_switch + drop_privileges.
Status drop_privileges(const std::string& user, const std::string& group);

}  // namespace stunbox
