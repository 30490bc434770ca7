// Small helpers of husk_bench: the stop flag set by SIGINT/SIGTERM, the monotonic clock and
// rusage CPU time, reading and writing files, and trimming and formatting text.

#include <time.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "conformance/bench/bench.h"

namespace husk::bench {

volatile sig_atomic_t g_stop = 0;
void CheckStop() {
  if (g_stop) throw Stopped();
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
double Ms(int64_t ns) { return double(ns) / 1e6; }
double CpuMs(const rusage& ru) {
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string ReadFile(const std::string& path, size_t max) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::string s(max, '\0');
  f.read(s.data(), std::streamsize(max));
  s.resize(size_t(f.gcount()));
  return s;
}
void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << data;
}
std::string Trim(std::string s) {
  while (!s.empty() && std::isspace((unsigned char)s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace((unsigned char)s[i])) i++;
  return s.substr(i);
}
std::string FirstLine(const std::string& s) {
  std::string t = Trim(s);
  auto nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}
std::string Excerpt(const std::string& s, size_t max) {
  std::string t = Trim(s);
  for (auto& c : t)
    if (c == '\n' || c == '|') c = ' ';
  if (t.size() > max) t = t.substr(0, max) + "...";
  return t;
}
std::string Fmt(const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

}  // namespace husk::bench
