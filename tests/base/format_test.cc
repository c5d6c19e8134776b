#include "jsn/base/format.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/source_tree.h"

namespace jsn {
namespace {

// Our text and the C library's (glibc's vsnprintf) for the same format and arguments.
struct Pair {
  std::string ours;
  std::string libc;
  size_t our_length;
  int libc_length;
};

Pair Both(size_t capacity, const char* format, ...) __attribute__((format(printf, 2, 3)));
Pair Both(size_t capacity, const char* format, ...) {
  std::string ours(capacity, '#');
  std::string libc(capacity, '#');
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  Pair pair;
  pair.our_length = FormatV(ours.data(), capacity, format, args);
  pair.libc_length = vsnprintf(libc.data(), capacity, format, copy);
  va_end(copy);
  va_end(args);
  pair.ours = ours;
  pair.libc = libc;
  return pair;
}

// Formats with both into a buffer with room to spare and expects the same bytes and length.
#define EXPECT_AS_LIBC(...)                                                              \
  do {                                                                                   \
    Pair pair_ = Both(256, __VA_ARGS__);                                                 \
    EXPECT_EQ(pair_.ours, pair_.libc) << #__VA_ARGS__;                                   \
    EXPECT_EQ(pair_.our_length, static_cast<size_t>(pair_.libc_length)) << #__VA_ARGS__; \
  } while (0)

TEST(Format, StringsAsLibc) {
  const char* text = "active";
  EXPECT_AS_LIBC("%s", text);
  EXPECT_AS_LIBC("%s", "");
  EXPECT_AS_LIBC("a %s b %s c", "x", "yz");
  EXPECT_AS_LIBC("%.3s|%.0s|%.10s", text, text, text);
  EXPECT_AS_LIBC("%.60s %.80s %.100s %.120s %.150s", text, text, text, text, text);
  EXPECT_AS_LIBC("%-24s|%-32s|%-12s|%-10s|", "ALIAS", "UNIT", "ACTIVE", "DELIVERED");
  EXPECT_AS_LIBC("%-24s|%-32s|", "an-alias-longer-than-24-bytes", "x");
  EXPECT_AS_LIBC("%8s|%2s|%-2s|", "ab", "abc", "abc");
  const char* volatile none = nullptr;  // volatile: the compiler may not see it is null
  EXPECT_AS_LIBC("%s|%.6s|%.5s|%.0s|%10s|", none, none, none, none, none);
}

TEST(Format, CountedStringsReadOnlyTheirPrecision) {
  char unterminated[4] = {'a', 'b', 'c', 'd'};  // no NUL: only the precision bounds it
  EXPECT_AS_LIBC("%.*s|", 4, unterminated);
  EXPECT_AS_LIBC("%.*s|", 2, unterminated);
  EXPECT_AS_LIBC("%.*s|", 0, unterminated);
  EXPECT_AS_LIBC("%.*s|", -1, "negative precision is none");
  EXPECT_AS_LIBC("%-12.*s|%-12.*s|", 3, unterminated, 4, "inactive");
  EXPECT_AS_LIBC("%*s|%*s|%-*s|", 6, "ab", -6, "ab", 6, "ab");
  EXPECT_AS_LIBC("%s/%.*s", "/etc/systemd/system", 4, "app.service");
}

TEST(Format, CharactersAsLibc) {
  EXPECT_AS_LIBC("'%c' %c%c", 'x', '_', '3');
  EXPECT_AS_LIBC("\\%c", '"');
  EXPECT_AS_LIBC("%3c|%-3c|", 'a', 'b');
  EXPECT_AS_LIBC("%c", 0xe9);         // a byte past ASCII, as from a UTF-8 unit name
  EXPECT_AS_LIBC("[%c]after", '\0');  // a NUL byte is output, and counted
}

TEST(Format, SignedIntegersAsLibc) {
  EXPECT_AS_LIBC("%d %d %d %d", 0, 7, -7, 123456);
  EXPECT_AS_LIBC("%d %d", INT_MAX, INT_MIN);
  EXPECT_AS_LIBC("%i", -42);
  EXPECT_AS_LIBC("%ld %ld", LONG_MAX, LONG_MIN);
  EXPECT_AS_LIBC("%lld %lld %lld", LLONG_MAX, LLONG_MIN, 1234567890123LL);
  EXPECT_AS_LIBC("%zd %jd %td", static_cast<ssize_t>(-5), INTMAX_MIN, static_cast<ptrdiff_t>(-9));
  EXPECT_AS_LIBC("%hd %hhd %hd", static_cast<short>(-1234), static_cast<signed char>(-5),
                 static_cast<short>(SHRT_MIN));
  EXPECT_AS_LIBC("%5d|%-5d|%05d|%05d|%2d|", 42, 42, 42, -42, -420);
  EXPECT_AS_LIBC("%.3d|%.0d|%.0d|%5.0d|%-6.3d|%6.3d|", 7, 0, 3, 0, -7, -7);
  EXPECT_AS_LIBC("%*d|%-*d|%.*d|", 4, 1, 4, 2, 3, 3);
}

TEST(Format, UnsignedIntegersAsLibc) {
  EXPECT_AS_LIBC("%u %u %u", 0u, 42u, UINT_MAX);
  EXPECT_AS_LIBC("%lu %llu", ULONG_MAX, ULLONG_MAX);
  EXPECT_AS_LIBC("%zu %zu %zu", size_t{0}, size_t{200}, SIZE_MAX);
  EXPECT_AS_LIBC("%ju %hu %hhu", UINTMAX_MAX, static_cast<unsigned short>(USHRT_MAX),
                 static_cast<unsigned char>(200));
  EXPECT_AS_LIBC("%x %x %X %x", 0u, 255u, 0xbeefu, UINT_MAX);
  EXPECT_AS_LIBC("%02x %02x %02x", 0u, 0x7fu, 0xabcu);
  EXPECT_AS_LIBC("\\x%02x \\u%04x \\u%04x", 0x1fu, 0x7fu, 0x1fu);
  EXPECT_AS_LIBC("%lx %llX %zx", ULONG_MAX, 0x123456789abcULL, size_t{4096});
  EXPECT_AS_LIBC("%8u|%-8x|%08X|%.5u|", 12u, 0xffu, 0xffu, 12u);
}

TEST(Format, PercentAndLiteralsAsLibc) {
  EXPECT_AS_LIBC("%%");
  EXPECT_AS_LIBC("100%% of %s", "units");
  EXPECT_AS_LIBC("no conversions at all\n");
}

// The messages our code formats, as they are written (a sample of each shape).
TEST(Format, MessagesOfTheDaemonAsLibc) {
  EXPECT_AS_LIBC("expected a type code, found '%c' (0x%02x)", 'Z', 0x5au);
  EXPECT_AS_LIBC("expected '%c' at position %zu of \"%.*s\", found '%c'", ')', size_t{3}, 4,
                 "a{sv}", '}');
  EXPECT_AS_LIBC("READY=1\nSTATUS=watching %zu unit%s for %s\n", size_t{2}, "s", "app/0");
  EXPECT_AS_LIBC("RELOADING=1\nSTATUS=re-reading every state\nMONOTONIC_USEC=%lld\n",
                 1234567890123LL);
  EXPECT_AS_LIBC("%-24s %-32s %-12.*s %-10s %s %s\n", "db", "postgresql.service", 6, "activating",
                 "started", "pending", "(failing)");
  EXPECT_AS_LIBC("expected the bus to accept EXTERNAL for uid %lu, found REJECTED %.100s", 0ul,
                 "EXTERNAL");
  EXPECT_AS_LIBC("%s: retrying hooks/service-%s-%s in %s s (failure %u)", "app.service", "app",
                 "started", "2", 3u);
}

TEST(Format, ACutTextEndsInANulAndReportsItsWholeLength) {
  for (size_t capacity : {size_t{1}, size_t{2}, size_t{5}, size_t{11}, size_t{12}, size_t{13}}) {
    Pair pair = Both(capacity, "%s-%05d|", "abc", 42);
    EXPECT_EQ(pair.ours, pair.libc) << capacity;
    EXPECT_EQ(pair.our_length, static_cast<size_t>(pair.libc_length)) << capacity;
    EXPECT_EQ(pair.ours[std::min(capacity, pair.our_length + 1) - 1], '\0') << capacity;
  }
}

TEST(Format, ZeroCapacityOnlyMeasures) {
  EXPECT_EQ(Format(nullptr, 0, "%s=%u", "key", 1234u), 8u);
  char untouched = '#';
  EXPECT_EQ(Format(&untouched, 0, "abc"), 3u);
  EXPECT_EQ(untouched, '#');
}

struct Collect : FormatSink {
  std::string text;
  int pieces = 0;
};

size_t CollectAll(Collect* collect, const char* format, ...) {
  collect->write = [](FormatSink* sink, const char* bytes, size_t length) {
    auto* self = static_cast<Collect*>(sink);
    self->text.append(bytes, length);
    ++self->pieces;
  };
  va_list args;
  va_start(args, format);
  size_t length = FormatTo(collect, format, args);
  va_end(args);
  return length;
}

TEST(Format, ASinkReceivesTheWholeTextInOrder) {
  Collect collect;
  std::string long_text(1000, 'x');
  size_t length = CollectAll(&collect, "<%s|%-40s|%d>", long_text.c_str(), "pad", -1);
  EXPECT_EQ(collect.text, "<" + long_text + "|pad" + std::string(37, ' ') + "|-1>");
  EXPECT_EQ(length, collect.text.size());
  EXPECT_GT(collect.pieces, 1);
}

// What is not supported is shown as written, and no argument after it is read (a misread one
// could be taken for a pointer).
TEST(Format, AnUnsupportedConversionEndsFormattingVisibly) {
  char buffer[64];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
  EXPECT_EQ(Format(buffer, sizeof buffer, "a=%d b=%f c=%s", 1, 2.5, "x"), 13u);
  EXPECT_STREQ(buffer, "a=1 b=%f c=%s");
  Format(buffer, sizeof buffer, "%+d %s", 1, "x");
  EXPECT_STREQ(buffer, "%+d %s");
  Format(buffer, sizeof buffer, "%#x|%p|%n|%5%", 1u, static_cast<void*>(buffer), nullptr);
  EXPECT_STREQ(buffer, "%#x|%p|%n|%5%");
  Format(buffer, sizeof buffer, "50%");
  EXPECT_STREQ(buffer, "50%");
#pragma GCC diagnostic pop
}

// Every conversion written in the daemon's sources (a format string is any string literal
// there) is one the formatter supports, so the musl build prints what the glibc build prints.
TEST(Format, EveryConversionInTheSourcesIsSupported) {
  const std::regex conversion(
      R"(%[-0 +#]*(\*|[0-9]+)?(\.(\*|[0-9]+))?(hh|h|ll|l|z|j|t|L|q)?[A-Za-z%])");
  const std::regex supported(R"(%[-0]*(\*|[0-9]+)?(\.(\*|[0-9]+))?(hh|h|ll|l|z|j|t)?[diuxXcs]|%%)");
  // Comments and character literals are matched too, so that a quote in them starts nothing.
  const std::regex token(R"(//[^\n]*|'([^'\\\n]|\\.)*'|"([^"\\\n]|\\.)*")");
  std::set<std::string> unsupported;
  int files = 0;
  for (const char* tree_directory : {"src/", "include/jsn/"}) {
    const std::filesystem::path directory = testing::SourcePath(tree_directory);
    ASSERT_TRUE(std::filesystem::is_directory(directory)) << directory;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
      const std::string name = entry.path().lexically_relative(directory).generic_string();
      bool is_source = name.ends_with(".cc") || name.ends_with(".h");
      if (!entry.is_regular_file() || !is_source) continue;
      std::ifstream file(entry.path());
      std::stringstream content;
      content << file.rdbuf();
      ++files;
      std::string source = content.str();
      for (std::sregex_iterator t(source.begin(), source.end(), token), end; t != end; ++t) {
        std::string text = t->str();
        if (text[0] != '"') continue;
        for (std::sregex_iterator c(text.begin(), text.end(), conversion); c != end; ++c) {
          if (!std::regex_match(c->str(), supported)) unsupported.insert(name + ": " + c->str());
        }
      }
    }
  }
  EXPECT_GT(files, 20);
  EXPECT_TRUE(unsupported.empty()) << [&] {
    std::string all;
    for (const std::string& u : unsupported) all += u + "\n";
    return all;
  }();
}

}  // namespace
}  // namespace jsn
