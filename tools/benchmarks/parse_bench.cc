// Parser micro-benchmarks (Google Benchmark): how long it takes to answer the daemon's one
// question, "what ActiveState does this PropertiesChanged carry?", for a recorded systemd
// (sd-bus) signal, small and large, with our reader, libdbus and GLib, against a floor that
// only reads every byte once. Each benchmark owns its copy of the fixture bytes; nothing here
// is part of the daemon. `make bench` runs it through tools/bench, which prints the ratios.
//
// What each one does per message, so the comparison is like for like (every parser validates
// the whole message and then finds the one value):
//   ours:    jsn::Message::Parse (full validation) + FindInStringVariantDict("ActiveState")
//   libdbus: dbus_message_demarshal (validates) + DBusMessageIter down to ActiveState
//   glib:    g_dbus_message_new_from_blob (validates, builds a GVariant) + g_variant_lookup_value
//   floor:   a sum of every byte (one plain pass the compiler cannot drop)
#include <benchmark/benchmark.h>
#include <dbus/dbus.h>
#include <gio/gio.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "jsn/wire/reader.h"

namespace {

std::string g_fixture_dir = "fixtures/valid";

std::vector<uint8_t> ReadFixture(const char* name) {
  const std::string path = g_fixture_dir + "/" + name + ".bin";
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "parse_bench: cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  std::fclose(file);
  return bytes;
}

// Every benchmark first checks, outside the timed loop, that it finds the state the fixture
// records, so a fast wrong answer cannot pass for a fast right one.
void Expect(benchmark::State& state, std::string_view found, std::string_view expected) {
  if (found != expected) {
    state.SkipWithError(("found ActiveState '" + std::string(found) + "', expected '" +
                         std::string(expected) + "'").c_str());
  }
}

void Account(benchmark::State& state, const std::vector<uint8_t>& bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.counters["message_bytes"] = static_cast<double>(bytes.size());
}

std::string_view OursActiveState(const std::vector<uint8_t>& bytes) {
  jsn::Message message;
  if (!jsn::Message::Parse(bytes, &message).ok()) return "<invalid>";
  jsn::Iterator body = message.body();
  jsn::Value interface, changed, state;
  if (!body.Next(&interface) || !body.Next(&changed)) return "<short body>";
  if (!jsn::FindInStringVariantDict(changed, "ActiveState", &state) || state.type() != 's') {
    return "<absent>";
  }
  return state.as_string();
}

void BM_Ours(benchmark::State& state, const char* fixture, const char* expected) {
  const std::vector<uint8_t> bytes = ReadFixture(fixture);
  Expect(state, OursActiveState(bytes), expected);
  for (auto _ : state) {
    std::string_view found = OursActiveState(bytes);
    benchmark::DoNotOptimize(found.data());
    benchmark::DoNotOptimize(found.size());
  }
  Account(state, bytes);
}

// Parse alone, to separate the validation walk from the lookup when profiling.
void BM_OursParseOnly(benchmark::State& state, const char* fixture) {
  const std::vector<uint8_t> bytes = ReadFixture(fixture);
  for (auto _ : state) {
    jsn::Message message;
    jsn::Status status = jsn::Message::Parse(bytes, &message);
    benchmark::DoNotOptimize(status.ok());
    benchmark::DoNotOptimize(message.header().serial);
  }
  Account(state, bytes);
}

// Returns ActiveState as a copy: the string lives inside the DBusMessage, freed before return.
std::string LibdbusActiveState(const std::vector<uint8_t>& bytes, bool copy_out) {
  DBusError error;
  dbus_error_init(&error);
  DBusMessage* message = dbus_message_demarshal(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<int>(bytes.size()), &error);
  if (message == nullptr) {
    dbus_error_free(&error);
    return "<invalid>";
  }
  std::string found = "<absent>";
  DBusMessageIter body, dict, entry, variant;
  dbus_message_iter_init(message, &body);
  if (dbus_message_iter_next(&body) && dbus_message_iter_get_arg_type(&body) == DBUS_TYPE_ARRAY) {
    dbus_message_iter_recurse(&body, &dict);
    while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
      dbus_message_iter_recurse(&dict, &entry);
      const char* key = nullptr;
      dbus_message_iter_get_basic(&entry, &key);
      if (std::strcmp(key, "ActiveState") == 0) {
        dbus_message_iter_next(&entry);
        dbus_message_iter_recurse(&entry, &variant);
        if (dbus_message_iter_get_arg_type(&variant) == DBUS_TYPE_STRING) {
          const char* value = nullptr;
          dbus_message_iter_get_basic(&variant, &value);
          if (copy_out) {
            found = value;
          } else {
            benchmark::DoNotOptimize(value);
            found.clear();
          }
        }
        break;
      }
      dbus_message_iter_next(&dict);
    }
  }
  dbus_message_unref(message);
  return found;
}

void BM_Libdbus(benchmark::State& state, const char* fixture, const char* expected) {
  const std::vector<uint8_t> bytes = ReadFixture(fixture);
  Expect(state, LibdbusActiveState(bytes, true), expected);
  for (auto _ : state) {
    // No copy out inside the loop: the std::string would be ours to pay for, not libdbus's.
    std::string found = LibdbusActiveState(bytes, false);
    benchmark::DoNotOptimize(found.size());
  }
  Account(state, bytes);
}

std::string GlibActiveState(const std::vector<uint8_t>& bytes, bool copy_out) {
  GError* error = nullptr;
  // The blob is not modified; GLib's signature takes a non-const pointer.
  GDBusMessage* message = g_dbus_message_new_from_blob(
      const_cast<guchar*>(bytes.data()), bytes.size(), G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  if (message == nullptr) {
    g_error_free(error);
    return "<invalid>";
  }
  std::string found = "<absent>";
  GVariant* body = g_dbus_message_get_body(message);  // owned by the message
  if (body != nullptr && g_variant_n_children(body) >= 2) {
    GVariant* changed = g_variant_get_child_value(body, 1);
    GVariant* value = g_variant_lookup_value(changed, "ActiveState", G_VARIANT_TYPE_STRING);
    if (value != nullptr) {
      const gchar* text = g_variant_get_string(value, nullptr);
      if (copy_out) {
        found = text;
      } else {
        benchmark::DoNotOptimize(text);
        found.clear();
      }
      g_variant_unref(value);
    }
    g_variant_unref(changed);
  }
  g_object_unref(message);
  return found;
}

void BM_Glib(benchmark::State& state, const char* fixture, const char* expected) {
  const std::vector<uint8_t> bytes = ReadFixture(fixture);
  Expect(state, GlibActiveState(bytes, true), expected);
  for (auto _ : state) {
    std::string found = GlibActiveState(bytes, false);
    benchmark::DoNotOptimize(found.size());
  }
  Account(state, bytes);
}

// The floor: one pass that reads every byte once and does the least with it. A byte sum
// compiles to a vectorised load-and-add loop at -O2 or not depending on the compiler; either
// way nothing that looks at each byte can be faster by more than that.
uint64_t SumBytes(const uint8_t* data, size_t size) {
  uint64_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum += data[i];
  return sum;
}

void BM_Floor(benchmark::State& state, const char* fixture) {
  const std::vector<uint8_t> bytes = ReadFixture(fixture);
  for (auto _ : state) {
    const uint8_t* data = bytes.data();
    benchmark::DoNotOptimize(data);  // the compiler may not assume the bytes are unchanged
    uint64_t sum = SumBytes(data, bytes.size());
    benchmark::DoNotOptimize(sum);
  }
  Account(state, bytes);
}

struct Fixture {
  const char* label;  // "small" or "large": tools/bench keys its table on it
  const char* name;
  const char* active_state;
};

const Fixture kFixtures[] = {
    {"small", "sdbus-properties-changed-small-le", "active"},
    {"large", "sdbus-properties-changed-large-le", "active"},
};

}  // namespace

int main(int argc, char** argv) {
  if (const char* dir = std::getenv("JSN_FIXTURE_DIR")) g_fixture_dir = dir;
  for (const Fixture& f : kFixtures) {
    const std::string label = f.label;
    benchmark::RegisterBenchmark(("ours/" + label).c_str(), BM_Ours, f.name, f.active_state);
    benchmark::RegisterBenchmark(("ours_parse_only/" + label).c_str(), BM_OursParseOnly, f.name);
    benchmark::RegisterBenchmark(("libdbus/" + label).c_str(), BM_Libdbus, f.name, f.active_state);
    benchmark::RegisterBenchmark(("glib/" + label).c_str(), BM_Glib, f.name, f.active_state);
    benchmark::RegisterBenchmark(("floor/" + label).c_str(), BM_Floor, f.name);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
