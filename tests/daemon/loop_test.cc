#include "jsn/daemon/loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

namespace jsn {
namespace {

// The Loop blocks signals for the whole process; put the mask back after each test so the
// other tests (and their children) are unaffected.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override { sigprocmask(SIG_SETMASK, nullptr, &saved_mask_); }
  void TearDown() override {
    // Drain anything still pending before unblocking, or it would be delivered (and kill us).
    sigset_t pending;
    sigpending(&pending);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) {
      if (sigismember(&pending, signal)) {
        timespec zero{};
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, signal);
        sigtimedwait(&one, nullptr, &zero);
      }
    }
    sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
  }
  sigset_t saved_mask_;
};

TEST_F(LoopTest, SignalsArriveThroughTheLoop) {
  Loop loop;
  ASSERT_TRUE(loop.Open().ok());
  ASSERT_EQ(raise(SIGHUP), 0);  // to this thread, which blocks it
  ASSERT_EQ(raise(SIGTERM), 0);
  epoll_event events[4];
  size_t count = 0;
  ASSERT_TRUE(loop.Wait(events, 4, &count).ok());
  ASSERT_EQ(count, 1u);
  uint64_t tag = events[0].data.u64;  // epoll_event is packed: copy before binding a reference
  EXPECT_EQ(tag, Loop::kSignalTag);
  int signals[8];
  size_t signal_count = 0;
  ASSERT_TRUE(loop.ReadSignals(signals, 8, &signal_count).ok());
  ASSERT_EQ(signal_count, 2u);
  // Standard signals come out in signal-number order.
  EXPECT_EQ(signals[0], SIGHUP);
  EXPECT_EQ(signals[1], SIGTERM);
  ASSERT_TRUE(loop.ReadSignals(signals, 8, &signal_count).ok());
  EXPECT_EQ(signal_count, 0u);  // drained, and the read did not block
}

TEST_F(LoopTest, AnExpiredTimerFiresAndCanBeDisarmed) {
  Loop loop;
  ASSERT_TRUE(loop.Open().ok());
  ASSERT_TRUE(loop.ArmTimer(MonotonicNow()).ok());
  epoll_event events[4];
  size_t count = 0;
  ASSERT_TRUE(loop.Wait(events, 4, &count).ok());
  ASSERT_EQ(count, 1u);
  uint64_t tag = events[0].data.u64;  // epoll_event is packed: copy before binding a reference
  EXPECT_EQ(tag, Loop::kTimerTag);
  loop.AcknowledgeTimer();

  // Armed far ahead then disarmed: a pipe becoming readable is the only event.
  ASSERT_TRUE(loop.ArmTimer(MonotonicNow() + std::chrono::hours(1)).ok());
  ASSERT_TRUE(loop.ArmTimer(kNever).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_TRUE(loop.Add(fds[0], EPOLLIN, 7).ok());
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  ASSERT_TRUE(loop.Wait(events, 4, &count).ok());
  ASSERT_EQ(count, 1u);
  tag = events[0].data.u64;
  EXPECT_EQ(tag, 7u);
  ASSERT_TRUE(loop.Remove(fds[0]).ok());
  close(fds[0]);
  close(fds[1]);
}

TEST_F(LoopTest, MonotonicNowMovesForward) {
  MonotonicTime a = MonotonicNow();
  MonotonicTime b = MonotonicNow();
  EXPECT_GT(a.count(), 0);
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace jsn
