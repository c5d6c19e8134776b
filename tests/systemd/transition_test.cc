// Transition: the record of what systemd said with a state, read from the values systemd sends
// (an a{sv} as PropertiesChanged and GetAll carry it) and written in its three forms.
#include "jsn/systemd/transition.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jsn/wire/reader.h"
#include "jsn/wire/writer.h"

namespace jsn {
namespace {

// A method return whose body is one a{sv}, as GetAll answers; `add` writes the entries.
template <typename Add>
std::vector<uint8_t> DictMessage(Add add) {
  std::vector<uint8_t> bytes(4096);
  Writer w(bytes);
  HeaderFields f;
  f.type = MessageType::kMethodReturn;
  f.serial = 2;
  f.reply_serial = 1;
  f.signature = "a{sv}";
  w.Begin(f);
  w.OpenArray();
  add(w);
  w.CloseArray();
  std::span<const uint8_t> out;
  EXPECT_TRUE(w.Finish(&out).ok());
  bytes.resize(out.size());
  return bytes;
}

void Entry(Writer& w, const char* key, const char* signature, auto append) {
  w.OpenDictEntry();
  w.AppendString(key);
  w.OpenVariant(signature);
  append(w);
  w.CloseVariant();
  w.CloseDictEntry();
}

Transition Read(const std::vector<uint8_t>& bytes, Transition start = Transition()) {
  Message message;
  EXPECT_TRUE(Message::Parse(bytes, &message).ok());
  Iterator body = message.body();
  Value dict;
  EXPECT_TRUE(body.Next(&dict));
  ReadResultProperties(dict, &start);
  return start;
}

Transition Failed() {
  Transition t;
  CopyWord("failed", t.state);
  CopyWord("exit-code", t.result);
  t.exit_code = ExitCode::kExited;
  t.exit_status = 3;
  t.has_restarts = true;
  t.n_restarts = 0;
  t.timestamp = 1796696690117892;
  return t;
}

std::string Format(const Transition& t, TransitionForm form) {
  char text[512];
  FormatTransition(t, form, text);
  return text;
}

TEST(ResultInterface, NamesTheTypesInterfaceThatHasAResult) {
  EXPECT_EQ(ResultInterface("slurmd.service"), "org.freedesktop.systemd1.Service");
  EXPECT_EQ(ResultInterface("logrotate.timer"), "org.freedesktop.systemd1.Timer");
  EXPECT_EQ(ResultInterface("ssh.socket"), "org.freedesktop.systemd1.Socket");
  EXPECT_EQ(ResultInterface("home.mount"), "org.freedesktop.systemd1.Mount");
  EXPECT_EQ(ResultInterface("proc-sys-fs-binfmt_misc.automount"),
            "org.freedesktop.systemd1.Automount");
  EXPECT_EQ(ResultInterface("multi-user.target"), "");
  EXPECT_EQ(ResultInterface("system.slice"), "");
  EXPECT_EQ(ResultInterface("dev-sda.device"), "");
}

TEST(CopyWord, TakesOnlyShortWordsOfLowercaseDigitsAndDashes) {
  char out[Transition::kMaxWordLength + 1];
  EXPECT_TRUE(CopyWord("start-limit-hit", out));
  EXPECT_STREQ(out, "start-limit-hit");
  // Anything a shell, the state file or JSON would read otherwise is refused (left unknown).
  for (const char* bad :
       {"", "a b", "a'b", "a\"b", "$(reboot)", "a;b", "Active", "a=b", "a\nb", "a/b", "a\\b"}) {
    EXPECT_FALSE(CopyWord(bad, out)) << bad;
    EXPECT_STREQ(out, "") << bad;
  }
  EXPECT_TRUE(CopyWord(std::string(Transition::kMaxWordLength, 'a'), out));
  EXPECT_FALSE(CopyWord(std::string(Transition::kMaxWordLength + 1, 'a'), out));
  EXPECT_STREQ(out, "");
}

TEST(ReadResultProperties, TakesWhatAServiceSends) {
  Transition t = Read(DictMessage([](Writer& w) {
    Entry(w, "MainPID", "u", [](Writer& v) { v.AppendUint32(0); });
    Entry(w, "Result", "s", [](Writer& v) { v.AppendString("signal"); });
    Entry(w, "ExecMainCode", "i", [](Writer& v) { v.AppendInt32(2); });
    Entry(w, "ExecMainStatus", "i", [](Writer& v) { v.AppendInt32(9); });
    Entry(w, "NRestarts", "u", [](Writer& v) { v.AppendUint32(4); });
  }));
  EXPECT_STREQ(t.result, "signal");
  EXPECT_EQ(t.exit_code, ExitCode::kKilled);
  EXPECT_EQ(t.exit_status, 9);
  EXPECT_TRUE(t.has_restarts);
  EXPECT_EQ(t.n_restarts, 4u);
}

TEST(ReadResultProperties, LeavesWhatIsAbsentOrMistypedAsItWas) {
  Transition start = Failed();
  Transition t = Read(DictMessage([](Writer& w) {
                        Entry(w, "Result", "u", [](Writer& v) { v.AppendUint32(1); });
                        Entry(w, "NRestarts", "s", [](Writer& v) { v.AppendString("4"); });
                      }),
                      start);
  EXPECT_EQ(t, start);
  // A timer sends only Result.
  t = Read(DictMessage(
      [](Writer& w) { Entry(w, "Result", "s", [](Writer& v) { v.AppendString("success"); }); }));
  EXPECT_STREQ(t.result, "success");
  EXPECT_EQ(t.exit_code, ExitCode::kNone);
  EXPECT_FALSE(t.has_restarts);
}

TEST(ReadResultProperties, AnExitCodeNotOfAnEndedProcessIsNone) {
  for (int32_t code : {0, 4, 5, 6, -1}) {
    Transition t = Read(DictMessage([code](Writer& w) {
      Entry(w, "ExecMainCode", "i", [code](Writer& v) { v.AppendInt32(code); });
    }));
    EXPECT_EQ(t.exit_code, ExitCode::kNone) << code;
  }
}

TEST(FormatTransition, WritesTheKnownFieldsInEachForm) {
  Transition t = Failed();
  EXPECT_EQ(Format(t, TransitionForm::kHookEnvironment),
            "JSN_STATE=failed JSN_RESULT=exit-code JSN_EXIT_CODE=exited JSN_EXIT_STATUS=3 "
            "JSN_N_RESTARTS=0 JSN_TIMESTAMP=1796696690117892 ");
  EXPECT_EQ(Format(t, TransitionForm::kStateFile),
            "state=failed result=exit-code exit_code=exited exit_status=3 n_restarts=0 "
            "timestamp=1796696690117892 ");
  EXPECT_EQ(Format(t, TransitionForm::kJson),
            "{\"state\": \"failed\", \"result\": \"exit-code\", \"exit_code\": \"exited\", "
            "\"exit_status\": 3, \"n_restarts\": 0, \"timestamp\": 1796696690117892}");
  // A target: a state and when, nothing else.
  Transition target;
  CopyWord("active", target.state);
  target.timestamp = 7;
  EXPECT_EQ(Format(target, TransitionForm::kHookEnvironment), "JSN_STATE=active JSN_TIMESTAMP=7 ");
  EXPECT_EQ(Format(target, TransitionForm::kJson), "{\"state\": \"active\", \"timestamp\": 7}");
  EXPECT_EQ(Format(Transition(), TransitionForm::kHookEnvironment), "");
  EXPECT_EQ(Format(Transition(), TransitionForm::kStateFile), "");
  EXPECT_EQ(Format(Transition(), TransitionForm::kJson), "null");
}

TEST(FormatTransition, WritesNothingWhenItDoesNotFit) {
  char small[20] = "untouched";
  EXPECT_EQ(FormatTransition(Failed(), TransitionForm::kStateFile, small), 0u);
  EXPECT_STREQ(small, "");
}

TEST(ParseTransitionField, ReadsBackTheStateFileForm) {
  for (Transition t : {Failed(), Transition()}) {
    if (t.recorded()) t.exit_status = 2147483647;
    std::string text = Format(t, TransitionForm::kStateFile);
    Transition back;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(' ', start);
      ASSERT_TRUE(ParseTransitionField(text.substr(start, end - start), &back)) << text;
      start = end + 1;
    }
    EXPECT_EQ(back, t) << text;
  }
}

TEST(ParseTransitionField, RefusesBadValuesAndSkipsUnknownKeys) {
  Transition t;
  EXPECT_TRUE(ParseTransitionField("later=whatever", &t));
  EXPECT_EQ(t, Transition());
  for (const char* bad : {"state", "state=", "state=Fail", "exit_code=stopped", "exit_status=x",
                          "exit_status=2147483648", "exit_status=-1", "n_restarts=-1",
                          "n_restarts=4294967296", "timestamp=", "timestamp=1x"}) {
    Transition u;
    EXPECT_FALSE(ParseTransitionField(bad, &u)) << bad;
  }
}

}  // namespace
}  // namespace jsn
