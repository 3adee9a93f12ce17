// Unit tests for lib/core/privileges: lookups, and the drop itself in forked children (root only, else skipped).
#include <gtest/gtest.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "core/privileges.h"

namespace stunbox {
namespace {

// nobody's ids from the C library directly, independent of the code under test.
struct Expected {
  uid_t uid;
  gid_t gid;
};

Expected nobody() {
  const passwd* pw = getpwnam("nobody");
  return pw ? Expected{pw->pw_uid, pw->pw_gid} : Expected{0, 0};
}

// Runs `body` in a forked child; returns the child's exit code (or 128 + signal).
// The child reports its first failed check on stderr before exiting non-zero.
template <typename F>
int in_child(F body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CHILD_CHECK(cond, code)                                              \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "child: check failed: %s (line %d)\n", #cond, __LINE__); \
      return code;                                                           \
    }                                                                        \
  } while (0)

TEST(Privileges, LookupsFindRootAndRefuseUnknownNames) {
  auto root = find_user("root");
  ASSERT_TRUE(root) << root.message();
  ASSERT_TRUE(root->has_value());
  EXPECT_EQ((*root)->uid, 0u);
  EXPECT_EQ((*root)->gid, 0u);
  auto missing = find_user("stunbox-no-such-user");
  ASSERT_TRUE(missing) << missing.message();
  EXPECT_FALSE(missing->has_value());
  auto group = find_group("root");
  ASSERT_TRUE(group) << group.message();
  ASSERT_TRUE(group->has_value());
  EXPECT_EQ(**group, 0u);
  auto no_group = find_group("stunbox-no-such-group");
  ASSERT_TRUE(no_group) << no_group.message();
  EXPECT_FALSE(no_group->has_value());
}

TEST(Privileges, ResolveIdentityNamesThePrimaryGroupAndReportsUnknownNames) {
  auto id = resolve_identity("root", "");
  ASSERT_TRUE(id) << id.message();
  EXPECT_EQ(id->uid, 0u);
  EXPECT_EQ(id->gid, 0u);
  EXPECT_EQ(id->user, "root");
  EXPECT_EQ(id->group, "root");
  if (getpwnam("nobody") != nullptr) {
    auto n = resolve_identity("nobody", "root");  // explicit group wins over the primary one
    ASSERT_TRUE(n) << n.message();
    EXPECT_EQ(n->uid, nobody().uid);
    EXPECT_EQ(n->gid, 0u);
    EXPECT_EQ(n->group, "root");
  }
  auto bad_user = resolve_identity("stunbox-no-such-user", "");
  ASSERT_FALSE(bad_user);
  EXPECT_EQ(bad_user.message(), "no such user \"stunbox-no-such-user\"");
  auto bad_group = resolve_identity("root", "stunbox-no-such-group");
  ASSERT_FALSE(bad_group);
  EXPECT_EQ(bad_group.message(), "no such group \"stunbox-no-such-group\"");
}

class PrivilegesAsRoot : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (the drop is done in a forked child)";
    if (getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user nobody on this system";
  }
};

TEST_F(PrivilegesAsRoot, DropSwitchesEveryThreadAndCannotBeUndone) {
  const Expected want = nobody();
  int rc = in_child([&]() -> int {
    // A thread that exists before the drop must end up with the new ids too.
    std::atomic<int> phase{0};
    std::atomic<uid_t> thread_euid{0};
    std::atomic<gid_t> thread_egid{0};
    std::thread early([&] {
      phase.store(1);
      while (phase.load() != 2) std::this_thread::yield();
      thread_euid.store(geteuid());
      thread_egid.store(getegid());
      phase.store(3);
    });
    while (phase.load() != 1) std::this_thread::yield();
    Status st = drop_privileges("nobody", "");
    phase.store(2);
    early.join();
    if (!st) {
      std::fprintf(stderr, "child: %s\n", st.message().c_str());
      return 10;
    }
    uid_t r = 0, e = 0, s = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    CHILD_CHECK(getresuid(&r, &e, &s) == 0 && r == want.uid && e == want.uid && s == want.uid, 11);
    CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == want.gid && eg == want.gid && sg == want.gid, 12);
    gid_t groups[4] = {};
    CHILD_CHECK(getgroups(4, groups) == 1 && groups[0] == want.gid, 13);
    CHILD_CHECK(thread_euid.load() == want.uid && thread_egid.load() == want.gid, 14);
    CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, 15);
    CHILD_CHECK(setuid(0) != 0 && seteuid(0) != 0 && setgid(0) != 0, 16);
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
    CHILD_CHECK(syscall(SYS_capget, &h, d) == 0, 17);
    CHILD_CHECK(d[0].effective == 0 && d[1].effective == 0 && d[0].permitted == 0 && d[1].permitted == 0, 18);
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(PrivilegesAsRoot, NotRootCannotSwitchButMayStayWhoItIs) {
  const Expected want = nobody();
  int rc = in_child([&]() -> int {
    // Become nobody by hand first: the code under test then runs unprivileged.
    const gid_t g[1] = {want.gid};
    CHILD_CHECK(setgroups(1, g) == 0 && setresgid(want.gid, want.gid, want.gid) == 0 &&
                    setresuid(want.uid, want.uid, want.uid) == 0,
                20);
    auto root = resolve_identity("root", "");
    CHILD_CHECK(root.is_ok(), 21);
    Status check = check_can_switch(*root);
    CHILD_CHECK(!check.is_ok() && check.message() == "cannot switch to user root: not running as root", 22);
    Status drop = drop_privileges(*root);
    CHILD_CHECK(!drop.is_ok() && drop.message() == "cannot switch to user root: not running as root", 23);
    CHILD_CHECK(geteuid() == want.uid, 24);
    // Already nobody: nothing to switch, only no_new_privs; that succeeds.
    auto self = resolve_identity("nobody", "");
    CHILD_CHECK(self.is_ok() && check_can_switch(*self).is_ok(), 25);
    Status stay = drop_privileges(*self);
    if (!stay) std::fprintf(stderr, "child: %s\n", stay.message().c_str());
    CHILD_CHECK(stay.is_ok(), 26);
    CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, 27);
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(PrivilegesAsRoot, RootWithoutSetuidCapabilityIsRefusedUpFront) {
  int rc = in_child([&]() -> int {
    // What systemd's CapabilityBoundingSet= without CAP_SETUID/CAP_SETGID leaves: root, minus those two.
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
    CHILD_CHECK(syscall(SYS_capget, &h, d) == 0, 30);
    const uint32_t drop = (1u << CAP_SETUID) | (1u << CAP_SETGID);
    d[0].effective &= ~drop;
    d[0].permitted &= ~drop;
    CHILD_CHECK(syscall(SYS_capset, &h, d) == 0, 31);
    auto id = resolve_identity("nobody", "");
    CHILD_CHECK(id.is_ok(), 32);
    Status st = check_can_switch(*id);
    if (st) std::fprintf(stderr, "child: accepted\n");
    const std::string want = "cannot switch to user nobody: running as root but without CAP_SETUID and CAP_SETGID";
    CHILD_CHECK(!st.is_ok() && st.message() == want, 33);
    CHILD_CHECK(geteuid() == 0, 34);
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace stunbox
