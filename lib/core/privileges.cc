// Privilege drop: NSS lookups with growing buffers, the set*id sequence and its verification.
#include "core/privileges.h"

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace stunbox {
namespace {

// NSS entries can be large (big groups); the buffer grows on ERANGE up to this.
constexpr size_t kMaxLookupBuffer = size_t{1} << 20;

// getpwnam_r(3): these errors also mean "not found" with some NSS backends.
bool means_not_found(int err) { return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM; }

std::string errno_text(int err) { return std::strerror(err); }

// The effective and permitted capability sets (capget(2), version 3: 64 bits).
struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
};

bool read_caps(CapSets& out) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  out.effective = (uint64_t{data[1].effective} << 32) | data[0].effective;
  out.permitted = (uint64_t{data[1].permitted} << 32) | data[0].permitted;
  return true;
}

bool has_cap(const CapSets& c, int cap) { return (c.effective >> cap) & 1; }

// Exactly `id` already: every uid and gid is the target's.
bool is_already(const Identity& id) {
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) return false;
  return ru == id.uid && eu == id.uid && su == id.uid && rg == id.gid && eg == id.gid && sg == id.gid;
}

// "Uid:\t0\t0\t0\t0" -> true when all four (real, effective, saved, fs) equal `want`.
bool ids_line_is(const std::string& line, unsigned long want) {
  std::istringstream in(line.substr(line.find(':') + 1));
  unsigned long v = 0;
  int n = 0;
  while (in >> v) {
    if (v != want) return false;
    ++n;
  }
  return n == 4;
}

// Every thread of the process runs as `id` (glibc's set*id broadcast did
// reach them all). No /proc: nothing to check, and nothing to say.
Status check_every_thread(const Identity& id, const std::string& ctx) {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return Status::ok();
  Status result;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream status(std::string("/proc/self/task/") + e->d_name + "/status");
    if (!status) continue;  // the thread ended meanwhile
    std::string line;
    bool uid_ok = false, gid_ok = false;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) uid_ok = ids_line_is(line, id.uid);
      if (line.rfind("Gid:", 0) == 0) gid_ok = ids_line_is(line, id.gid);
    }
    if (!uid_ok || !gid_ok) {
      result = Error{ctx + "thread " + e->d_name + " still runs with other ids"};
      break;
    }
  }
  closedir(dir);
  return result;
}

Status verify(const Identity& id, bool switched, const std::string& ctx) {
  if (!is_already(id)) return Error{ctx + "real/effective/saved ids differ from the target after the switch"};
  if (switched) {
    gid_t groups[2] = {};
    int n = getgroups(2, groups);
    if (n != 1 || groups[0] != id.gid) return Error{ctx + "supplementary groups were not replaced"};
  }
  // Only a switch from root is checked for leftovers: a process that already
  // was `id` keeps what it was started with (e.g. systemd's ambient caps).
  if (switched && id.uid != 0) {
    // Irreversible: root must be out of reach (glibc runs this on every thread; all must refuse).
    if (setuid(0) == 0) return Error{ctx + "setuid(0) still succeeds after the switch"};
    CapSets caps;
    if (read_caps(caps) && (caps.effective != 0 || caps.permitted != 0))
      return Error{ctx + "capabilities remain after the switch"};
  }
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return Error{ctx + "no_new_privs is not set"};
  return check_every_thread(id, ctx);
}

}  // namespace

Result<std::optional<UserEntry>> find_user(const std::string& name) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 1024);
  for (;;) {
    passwd pw{};
    passwd* found = nullptr;
    int err = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (err == ERANGE && buf.size() < kMaxLookupBuffer) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (found != nullptr) return std::optional<UserEntry>(UserEntry{pw.pw_uid, pw.pw_gid});
    if (means_not_found(err)) return std::optional<UserEntry>();
    return Error{"cannot look up user \"" + name + "\": " + errno_text(err)};
  }
}

Result<std::optional<gid_t>> find_group(const std::string& name) {
  long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 1024);
  for (;;) {
    group gr{};
    group* found = nullptr;
    int err = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (err == ERANGE && buf.size() < kMaxLookupBuffer) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (found != nullptr) return std::optional<gid_t>(gr.gr_gid);
    if (means_not_found(err)) return std::optional<gid_t>();
    return Error{"cannot look up group \"" + name + "\": " + errno_text(err)};
  }
}

Result<Identity> resolve_identity(const std::string& user, const std::string& group) {
  if (user.empty()) return Error{"no user to switch to"};
  auto u = find_user(user);
  if (!u) return u.error();
  if (!*u) return Error{"no such user \"" + user + "\""};
  Identity id;
  id.user = user;
  id.uid = (*u)->uid;
  id.gid = (*u)->gid;
  if (!group.empty()) {
    auto g = find_group(group);
    if (!g) return g.error();
    if (!*g) return Error{"no such group \"" + group + "\""};
    id.group = group;
    id.gid = **g;
  } else {
    // Name the primary group for messages; a gid without an entry is shown as a number.
    long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 1024);
    struct group gr {};
    struct group* found = nullptr;
    while (getgrgid_r(id.gid, &gr, buf.data(), buf.size(), &found) == ERANGE && buf.size() < kMaxLookupBuffer)
      buf.resize(buf.size() * 2);
    id.group = found != nullptr ? std::string(gr.gr_name) : std::to_string(id.gid);
  }
  return id;
}

Status check_can_switch(const Identity& id) {
  const std::string ctx = "cannot switch to user " + id.user + ": ";
  if (is_already(id)) return Status::ok();
  if (geteuid() != 0) return Error{ctx + "not running as root"};
  CapSets caps;
  if (!read_caps(caps)) return Error{ctx + "capget: " + errno_text(errno)};
  // Root without them: a capability bounding set (e.g. systemd's CapabilityBoundingSet=) took them away.
  if (!has_cap(caps, CAP_SETUID) || !has_cap(caps, CAP_SETGID))
    return Error{ctx + "running as root but without CAP_SETUID and CAP_SETGID"};
  return Status::ok();
}

Status forbid_new_privileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error{"prctl(PR_SET_NO_NEW_PRIVS): " + errno_text(errno)};
  return Status::ok();
}

Status drop_privileges(const Identity& id) {
  const std::string ctx = "cannot switch to user " + id.user + ": ";
  // Root always switches, even to root: that also sheds supplementary groups.
  const bool switched = geteuid() == 0 || !is_already(id);
  if (switched) {
    if (geteuid() != 0) return Error{ctx + "not running as root"};
    // Group first: after setresuid the process may no longer change groups.
    const gid_t groups[1] = {id.gid};
    if (setgroups(1, groups) != 0) return Error{ctx + "setgroups: " + errno_text(errno)};
    if (setresgid(id.gid, id.gid, id.gid) != 0) return Error{ctx + "setresgid: " + errno_text(errno)};
    if (setresuid(id.uid, id.uid, id.uid) != 0) return Error{ctx + "setresuid: " + errno_text(errno)};
  }
  if (Status st = forbid_new_privileges(); !st) return Error{ctx + st.message()};
  return verify(id, switched, ctx);
}

Status drop_privileges(const std::string& user, const std::string& group) {
  auto id = resolve_identity(user, group);
  if (!id) return id.error();
  if (Status st = check_can_switch(*id); !st) return st;
  return drop_privileges(*id);
}

}  // namespace stunbox
