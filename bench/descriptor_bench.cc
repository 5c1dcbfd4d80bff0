// bench/descriptor: time to parse and validate the largest descriptors the
// deployer accepts (just under kMaxDescriptorBytes, 16 MiB), in the shapes
// that made validation superlinear or that stress one rule (issue 12):
//
//   nodes_junk      {"nodes":[{"a":1}, ... ~1.9M entries]}: every entry broken
//   nodes_valid     valid native nodes with distinct names and ports
//   modules_valid   valid modules on one node
//   connections     connections between two modules (ids run out at 65536)
//   keys            one mapping with ~1M unknown keys
//   devices         one node listing many devices, modules claiming them
//   deep            15 MB of '[' (nesting)
//   yaml_nodes      the nodes_junk shape written as YAML, 1 MiB (the YAML cap)
//   yaml_deep       1 MiB of YAML flow nesting ("a: [[[[...")
//
//   descriptor_bench [--mb N] [--shape NAME]   (default: 15 MB, every shape)
//
// Prints one line per shape (size, entries, seconds, outcome) and RESULT
// lines for bench/run (descriptor.<shape>.s and descriptor.max.s, the
// slowest shape). The target is under 2 s for every shape on one core.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "deployer/descriptor.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kKey[] = "000102030405060708090a0b0c0d0e0f";
constexpr size_t kYamlLimit = 1u << 20;  // descriptor.cc's kMaxYamlBytes

// Appends `element(i)` joined by `sep` until the text would exceed `limit`.
size_t Fill(std::string* out, size_t limit, const std::string& sep, const std::string& close,
            const std::function<std::string(size_t)>& element) {
  size_t n = 0;
  for (;; ++n) {
    std::string e = (n > 0 ? sep : std::string()) + element(n);
    if (out->size() + e.size() + close.size() > limit) break;
    *out += e;
  }
  *out += close;
  return n;
}

std::string NodeJson(size_t i) {
  return "{\"type\":\"native\",\"name\":\"n" + std::to_string(i) +
         "\",\"host\":\"127.0.0.1\",\"reactive_port\":" + std::to_string(1 + i % 65535) +
         ",\"node_key\":\"" + kKey + "\"}";
}

const std::string kOneNode = "{\"nodes\":[" + NodeJson(0) + "],";

struct Shape {
  const char* name;
  std::function<size_t(std::string*, size_t)> make;  // returns the entry count
};

std::vector<Shape> Shapes() {
  return {
      {"nodes_junk",
       [](std::string* t, size_t limit) {
         *t = "{\"nodes\":[";
         return Fill(t, limit, ",", "]}", [](size_t) { return "{\"a\":1}"; });
       }},
      {"nodes_valid",
       [](std::string* t, size_t limit) {
         // Distinct hosts keep host:port unique past 65535 nodes.
         *t = "{\"modules\":[],\"nodes\":[";
         return Fill(t, limit, ",", "]}", [](size_t i) {
           std::string n = NodeJson(i);
           std::string host = "h";  // appended: GCC 12 -O3 misreports "h" + string (-Wrestrict)
           host += std::to_string(i);
           return n.replace(n.find("127.0.0.1"), 9, host);
         });
       }},
      {"modules_valid",
       [](std::string* t, size_t limit) {
         *t = kOneNode + "\"modules\":[";
         return Fill(t, limit, ",", "]}", [](size_t i) {
           return "{\"type\":\"native\",\"name\":\"m" + std::to_string(i) +
                  "\",\"node\":\"n0\",\"sources\":[\"m.c\"]}";
         });
       }},
      {"connections",
       [](std::string* t, size_t limit) {
         *t = kOneNode +
              "\"modules\":[{\"type\":\"native\",\"name\":\"a\",\"node\":\"n0\",\"sources\":[\"a.c\"]},"
              "{\"type\":\"native\",\"name\":\"b\",\"node\":\"n0\",\"sources\":[\"b.c\"]}],"
              "\"connections\":[";
         return Fill(t, limit, ",", "]}", [](size_t) {
           return "{\"from_module\":\"a\",\"from_output\":\"o\",\"to_module\":\"b\","
                  "\"to_input\":\"i\",\"encryption\":\"aes\"}";
         });
       }},
      {"keys",
       [](std::string* t, size_t limit) {
         *t = "{\"nodes\":[],\"modules\":[]";
         return Fill(t, limit, "", "}",
                     [](size_t i) { return ",\"k" + std::to_string(i) + "\":1"; });
       }},
      {"devices",
       [](std::string* t, size_t limit) {
         *t = "{\"nodes\":[{\"type\":\"native\",\"name\":\"n0\",\"host\":\"127.0.0.1\","
              "\"reactive_port\":1,\"node_key\":\"" +
              std::string(kKey) + "\",\"devices\":[";
         size_t n = Fill(t, limit / 2, ",", "]}],", [](size_t i) {
           return "\"d" + std::to_string(i) + "\"";
         });
         *t += "\"modules\":[";
         return n + Fill(t, limit, ",", "]}", [](size_t i) {
                  return "{\"type\":\"native\",\"name\":\"m" + std::to_string(i) +
                         "\",\"node\":\"n0\",\"sources\":[\"m.c\"],\"device\":\"d" +
                         std::to_string(i) + "\"}";
                });
       }},
      {"deep",
       [](std::string* t, size_t limit) {
         *t = std::string(limit, '[');
         return limit;
       }},
      {"yaml_nodes",
       [](std::string* t, size_t limit) {
         *t = "modules: []\nnodes:\n";
         return Fill(t, std::min(limit, kYamlLimit), "", "",
                     [](size_t) { return "- {a: 1}\n"; });
       }},
      {"yaml_deep",
       [](std::string* t, size_t limit) {
         *t = "a: " + std::string(std::min(limit, kYamlLimit) - 3, '[');
         return t->size() - 3;
       }},
  };
}

// The process's CPU time: on a loaded machine the wall time includes waiting
// for a core.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 15;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mb") == 0 && i + 1 < argc) {
      mb = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--mb N] [--shape NAME]\n", argv[0]);
      return 2;
    }
  }
  const size_t limit = std::min(mb << 20, aex::deploy::kMaxDescriptorBytes);
  double slowest = 0;
  for (const Shape& shape : Shapes()) {
    if (!only.empty() && only != shape.name) continue;
    std::string text;
    const size_t entries = shape.make(&text, limit);
    const auto t0 = Clock::now();
    const double cpu0 = CpuSeconds();
    auto result = aex::deploy::ParseDescriptor(text, "bench.json", "");
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = CpuSeconds() - cpu0;
    slowest = std::max(slowest, s);
    const std::string outcome =
        result.ok() ? "accepted"
                    : "rejected, " +
                          std::to_string(1 + std::count(result.status().message().begin(),
                                                        result.status().message().end(), '\n')) +
                          " lines";
    std::printf("%-14s %6.2f MB %9zu entries %7.3f s (cpu %.3f s)  %s\n", shape.name,
                static_cast<double>(text.size()) / 1e6, entries, s, cpu, outcome.c_str());
    std::printf("RESULT descriptor.%s.s %.4f\n", shape.name, s);
    std::printf("RESULT descriptor.%s.cpu_s %.4f\n", shape.name, cpu);
  }
  std::printf("RESULT descriptor.max.s %.4f\n", slowest);
  return 0;
}
