#include "jsn/daemon/tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jsn {
namespace {

using std::chrono::seconds;
constexpr MonotonicTime T0 = seconds(100);

// Runs every due hook of `tracker` at `now`, finishing each at once with `succeeded`, and
// returns them as "unit:hook" strings, in the order they ran (repeating until nothing is due).
std::vector<std::string> DeliverAll(Tracker* tracker, MonotonicTime now, bool succeeded = true) {
  std::vector<std::string> delivered;
  Delivery delivery;
  while (tracker->TakeNextDelivery(now, &delivery)) {
    delivered.push_back(std::to_string(delivery.unit) + ":" + HookName(delivery.hook));
    tracker->HookFinished(delivery.unit, succeeded, now);
  }
  return delivered;
}

using Hooks = std::vector<std::string>;

TEST(Tracker, StatesMapToHooks) {
  EXPECT_EQ(HookForState("active"), Hook::kStarted);
  EXPECT_EQ(HookForState("inactive"), Hook::kStopped);
  EXPECT_EQ(HookForState("failed"), Hook::kStopped);
  EXPECT_EQ(HookForState("maintenance"), Hook::kStopped);
  EXPECT_EQ(HookForState("activating"), Hook::kNone);
  EXPECT_EQ(HookForState("deactivating"), Hook::kNone);
  EXPECT_EQ(HookForState("reloading"), Hook::kNone);
  EXPECT_EQ(HookForState("refreshing"), Hook::kNone);
  EXPECT_EQ(HookForState(""), Hook::kNone);
}

TEST(Tracker, InitialStateIsRecordedNotDelivered) {
  Tracker tracker(2);
  tracker.RecordInitialState(0, "active");
  tracker.RecordInitialState(1, "inactive");
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
  EXPECT_EQ(tracker.unit(0).delivered, Hook::kStarted);
  EXPECT_EQ(tracker.unit(1).delivered, Hook::kStopped);
  EXPECT_STREQ(tracker.unit(1).state, "inactive");
}

TEST(Tracker, StartAndStopEachDeliverOnce) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  EXPECT_EQ(tracker.ObserveState(0, "activating"), Observation::kInPassing);
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kWanted);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:started"});
  EXPECT_EQ(tracker.ObserveState(0, "deactivating"), Observation::kInPassing);
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kWanted);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:stopped"});
}

TEST(Tracker, RepeatsOfTheSameStateAreDropped) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kRepeat);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
  tracker.ObserveState(0, "active");
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kRepeat);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:started"});
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kRepeat);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
}

// Real systemd, a Restart=always service crashing: the original sent stopped twice.
TEST(Tracker, CrashAndRestartGivesOneStoppedAndOneStarted) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "active");
  Hooks all;
  for (const char* state : {"failed", "activating", "inactive", "active"}) {
    tracker.ObserveState(0, state);
    for (const std::string& hook : DeliverAll(&tracker, T0)) all.push_back(hook);
  }
  EXPECT_EQ(all, (Hooks{"0:stopped", "0:started"}));
}

TEST(Tracker, FailedAfterInactiveIsTheSameHookAndDropped) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  EXPECT_EQ(tracker.ObserveState(0, "failed"), Observation::kRepeat);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
  EXPECT_STREQ(tracker.unit(0).state, "failed");  // the log still says what it is
}

TEST(Tracker, UnknownUnitDeliversItsFirstSettledState) {
  Tracker tracker(2);
  tracker.RecordUnknown(0);
  tracker.RecordUnknown(1);
  EXPECT_STREQ(tracker.unit(0).state, "unknown");
  EXPECT_EQ(tracker.ObserveState(0, "activating"), Observation::kInPassing);
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kWanted);
  EXPECT_EQ(tracker.ObserveState(1, "inactive"), Observation::kWanted);
  EXPECT_EQ(DeliverAll(&tracker, T0), (Hooks{"0:started", "1:stopped"}));
}

TEST(Tracker, InitialStateInPassingHasNoBaseline) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "activating");
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
  tracker.ObserveState(0, "active");
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:started"});
}

TEST(Tracker, OneHookAtATimePerUnit) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));
  EXPECT_EQ(delivery.hook, Hook::kStarted);
  EXPECT_TRUE(tracker.AnyRunning());
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kWanted);
  EXPECT_FALSE(tracker.TakeNextDelivery(T0, &delivery));  // started still running
  tracker.HookFinished(0, true, T0 + seconds(5));
  EXPECT_FALSE(tracker.AnyRunning());
  ASSERT_TRUE(tracker.TakeNextDelivery(T0 + seconds(5), &delivery));
  EXPECT_EQ(delivery.hook, Hook::kStopped);  // in order: started, then stopped
}

TEST(Tracker, WhileAHookRunsTransitionsCoalesceToTheLatest) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "active");
  tracker.ObserveState(0, "inactive");
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));  // stopped runs (slowly)
  for (const char* state : {"active", "inactive", "active", "failed", "active"}) {
    tracker.ObserveState(0, state);
  }
  tracker.HookFinished(0, true, T0 + seconds(10));
  // stopped delivered; the net state since is active: one started, not five hooks.
  EXPECT_EQ(DeliverAll(&tracker, T0 + seconds(10)), Hooks{"0:started"});
}

TEST(Tracker, CoalescedStateEqualToTheRunningHookSendsNothingMore) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "active");
  tracker.ObserveState(0, "inactive");
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));  // stopped runs
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kWanted);
  EXPECT_EQ(tracker.ObserveState(0, "failed"), Observation::kBackToDelivered);
  tracker.HookFinished(0, true, T0 + seconds(1));
  EXPECT_EQ(DeliverAll(&tracker, T0 + seconds(1)), Hooks{});
}

TEST(Tracker, FlapBackBeforeDeliveryIsNotDelivered) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "active");
  tracker.ObserveState(0, "failed");
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kBackToDelivered);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{});
}

TEST(Tracker, StateFlipsDuringARunningHookAreDeliveredAfterIt) {
  // The running hook counts as delivered: a change away from it must follow.
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));  // started runs
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kWanted);
  tracker.HookFinished(0, true, T0);
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:stopped"});
}

TEST(Tracker, UnitsAreIndependent) {
  Tracker tracker(3);
  for (size_t i = 0; i < 3; ++i) tracker.RecordInitialState(i, "inactive");
  tracker.ObserveState(2, "active");
  tracker.ObserveState(0, "active");
  Delivery first, second, third;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &first));
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &second));  // another unit may run alongside
  EXPECT_FALSE(tracker.TakeNextDelivery(T0, &third));
  EXPECT_EQ(first.unit, 0u);
  EXPECT_EQ(second.unit, 2u);
}

TEST(Tracker, AFailedHookCountsAsDeliveredWithoutRetries) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  EXPECT_EQ(DeliverAll(&tracker, T0, /*succeeded=*/false), Hooks{"0:started"});
  EXPECT_EQ(DeliverAll(&tracker, T0 + seconds(3600)), Hooks{});
  EXPECT_EQ(tracker.NextWakeup(), kNever);
}

TEST(Tracker, WithRetriesAFailedHookIsRetriedWithDoublingBackoff) {
  Tracker tracker(
      1,
      RetryPolicy{.retry_failed_hooks = true, .first_delay = seconds(1), .max_delay = seconds(60)});
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  MonotonicTime now = T0;
  std::vector<MonotonicTime> delays;
  for (int attempt = 0; attempt < 9; ++attempt) {
    Delivery delivery;
    ASSERT_TRUE(tracker.TakeNextDelivery(now, &delivery)) << attempt;
    EXPECT_EQ(delivery.hook, Hook::kStarted);
    tracker.HookFinished(0, false, now);
    Delivery not_yet;
    EXPECT_FALSE(tracker.TakeNextDelivery(now, &not_yet));
    MonotonicTime wakeup = tracker.NextWakeup();
    ASSERT_NE(wakeup, kNever);
    EXPECT_FALSE(tracker.TakeNextDelivery(wakeup - MonotonicTime{1}, &not_yet));
    delays.push_back(wakeup - now);
    now = wakeup;
  }
  EXPECT_EQ(delays,
            (std::vector<MonotonicTime>{seconds(1), seconds(2), seconds(4), seconds(8), seconds(16),
                                        seconds(32), seconds(60), seconds(60), seconds(60)}));
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(now, &delivery));
  tracker.HookFinished(0, true, now);
  EXPECT_EQ(tracker.unit(0).delivered, Hook::kStarted);
  EXPECT_EQ(tracker.NextWakeup(), kNever);
}

// The daemon's policy (the defaults): as Juju backs off its own failed hooks, to 5 minutes; a
// failing handler, or juju-exec failing while the unit agent is down, is tried again on this
// schedule until it succeeds.
TEST(Tracker, TheDefaultRetryScheduleDoublesFromOneSecondToFiveMinutes) {
  Tracker tracker(1, RetryPolicy{.retry_failed_hooks = true});
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  MonotonicTime now = T0;
  std::vector<MonotonicTime> delays;
  for (int attempt = 0; attempt < 12; ++attempt) {
    Delivery delivery;
    ASSERT_TRUE(tracker.TakeNextDelivery(now, &delivery)) << attempt;
    tracker.HookFinished(0, false, now);
    Delivery not_yet;
    EXPECT_FALSE(tracker.TakeNextDelivery(tracker.NextWakeup() - MonotonicTime{1}, &not_yet));
    delays.push_back(tracker.NextWakeup() - now);
    now = tracker.NextWakeup();
  }
  EXPECT_EQ(delays,
            (std::vector<MonotonicTime>{seconds(1), seconds(2), seconds(4), seconds(8), seconds(16),
                                        seconds(32), seconds(64), seconds(128), seconds(256),
                                        seconds(300), seconds(300), seconds(300)}));
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kFailing, Hook::kStarted}));
  // The agent is back, or the handler fixed: one more run, and nothing after it.
  EXPECT_EQ(DeliverAll(&tracker, now), Hooks{"0:started"});
  EXPECT_EQ(tracker.NextWakeup(), kNever);
  EXPECT_EQ(DeliverAll(&tracker, now + seconds(3600)), Hooks{});
}

// A juju-exec that has not ended may still be queued in Juju: however long it runs, and however
// the unit's state moves meanwhile, the same unit gets no second hook until it ends.
TEST(Tracker, AHookThatHasNotEndedIsNeverStartedAgainNorJoinedByAnother) {
  Tracker tracker(1, RetryPolicy{.retry_failed_hooks = true});
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));
  EXPECT_FALSE(tracker.TakeNextDelivery(T0 + seconds(86400), &delivery));
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kWanted);
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kBackToDelivered);
  EXPECT_FALSE(tracker.TakeNextDelivery(T0 + seconds(86400), &delivery));
  EXPECT_EQ(tracker.NextWakeup(), kNever);
  tracker.HookFinished(0, true, T0 + seconds(86400));
  EXPECT_EQ(DeliverAll(&tracker, T0 + seconds(86400)), Hooks{});
}

TEST(Tracker, ADeliveryDueNowIsAWakeupAlreadyPast) {
  // The daemon's loop delivers, then may read states (a reconnect does) before it sleeps until
  // NextWakeup: a delivery owed by then must wake it at once, not at the next bus event.
  Tracker tracker(1);
  tracker.RecordInitialState(0, "active", Hook::kStarted);
  EXPECT_EQ(tracker.NextWakeup(), kNever);
  tracker.ObserveState(0, "inactive");
  EXPECT_LE(tracker.NextWakeup(), T0);
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(tracker.NextWakeup(), &delivery));
  EXPECT_EQ(delivery.hook, Hook::kStopped);
  // Running: nothing more to wake for until it ends.
  EXPECT_EQ(tracker.NextWakeup(), kNever);
  tracker.HookFinished(0, true, T0);
  EXPECT_EQ(tracker.NextWakeup(), kNever);
}

TEST(Tracker, ANewerStateSupersedesARetry) {
  Tracker tracker(1, RetryPolicy{.retry_failed_hooks = true});
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  EXPECT_EQ(DeliverAll(&tracker, T0, false), Hooks{"0:started"});
  EXPECT_NE(tracker.NextWakeup(), kNever);
  // Back to what the charm last saw: the failed started is moot.
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kBackToDelivered);
  EXPECT_EQ(tracker.NextWakeup(), kNever);
  EXPECT_EQ(DeliverAll(&tracker, T0 + seconds(100)), Hooks{});
  // Active again: delivered at once, not after the old backoff.
  tracker.ObserveState(0, "active");
  EXPECT_EQ(DeliverAll(&tracker, T0), Hooks{"0:started"});
}

TEST(Tracker, LongStatesAreCutForLogsOnly) {
  Tracker tracker(1);
  std::string long_state(100, 'x');
  tracker.RecordInitialState(0, long_state);
  EXPECT_EQ(std::string(tracker.unit(0).state), std::string(Tracker::kMaxStateLength, 'x'));
  EXPECT_EQ(tracker.unit(0).delivered, Hook::kStopped);
}

}  // namespace
}  // namespace jsn

namespace jsn {
namespace {

TEST(TrackerStateFileTest, AChangeWhileTheDaemonWasDownIsDeliveredOnStart) {
  Tracker tracker(2);
  tracker.RecordInitialState(0, "inactive", Hook::kStarted);  // stopped while we were down
  tracker.RecordInitialState(1, "active", Hook::kStarted);    // unchanged
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
  EXPECT_EQ(delivery.unit, 0u);
  EXPECT_EQ(delivery.hook, Hook::kStopped);
  EXPECT_FALSE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
}

TEST(TrackerStateFileTest, AStateInPassingAtStartWaitsForWhereItSettles) {
  Tracker tracker(1);
  tracker.RecordInitialState(0, "activating", Hook::kStopped);
  Delivery delivery;
  EXPECT_FALSE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kRepeat);
  EXPECT_FALSE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
  EXPECT_EQ(tracker.ObserveState(0, "active"), Observation::kWanted);
  ASSERT_TRUE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
  EXPECT_EQ(delivery.hook, Hook::kStarted);
}

TEST(TrackerStateFileTest, AnUnknownUnitKeepsItsLastDeliveredHookAsBaseline) {
  Tracker tracker(1);
  tracker.RecordUnknown(0, Hook::kStopped);
  EXPECT_EQ(tracker.ObserveState(0, "inactive"), Observation::kRepeat);
  Delivery delivery;
  EXPECT_FALSE(tracker.TakeNextDelivery(MonotonicTime{0}, &delivery));
}

TEST(Tracker, DeliveryStateIsIdlePendingWhileDueOrRunningFailingUntilARetrySucceeds) {
  Tracker tracker(1, RetryPolicy{.retry_failed_hooks = true});
  tracker.RecordInitialState(0, "inactive");
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kIdle, Hook::kNone}));
  tracker.ObserveState(0, "active");
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kPending, Hook::kStarted}));
  Delivery delivery;
  ASSERT_TRUE(tracker.TakeNextDelivery(T0, &delivery));
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kPending, Hook::kStarted}));
  tracker.HookFinished(0, false, T0);
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kFailing, Hook::kStarted}));
  ASSERT_TRUE(tracker.TakeNextDelivery(T0 + seconds(1), &delivery));  // the retry
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kFailing, Hook::kStarted}));
  tracker.HookFinished(0, true, T0 + seconds(1));
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kIdle, Hook::kNone}));
  EXPECT_STREQ(ProgressName(Progress::kFailing), "failing");
}

TEST(Tracker, ANewerStateTurnsAFailingHookIntoAPendingOneOrIdle) {
  Tracker tracker(1, RetryPolicy{.retry_failed_hooks = true});
  tracker.RecordInitialState(0, "inactive");
  tracker.ObserveState(0, "active");
  EXPECT_EQ(DeliverAll(&tracker, T0, false), (Hooks{"0:started"}));
  EXPECT_EQ(tracker.DeliveryStateOf(0).progress, Progress::kFailing);
  tracker.ObserveState(0, "inactive");  // back to what was delivered: nothing owed
  EXPECT_EQ(tracker.DeliveryStateOf(0), (DeliveryState{Progress::kIdle, Hook::kNone}));
}

}  // namespace
}  // namespace jsn
