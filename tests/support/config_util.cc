#include "tests/support/config_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

namespace husk::testing {

CmdResult RunScript(const TestRoot& root, Bundle& bundle, const std::string& script,
                    RunOptions opts) {
  bundle.SetArgs({"/bin/sh", "-c", script});
  bundle.Write();
  if (opts.timeout == std::chrono::milliseconds(30000)) opts.timeout = std::chrono::seconds(15);
  return root.Husk({"run", "--bundle", bundle.Path(), bundle.Id()}, opts);
}

Created CreateContainer(const TestRoot& root, Bundle& bundle,
                        const std::vector<std::string>& extra, RunOptions opts) {
  bundle.Write();
  Created c;
  c.out_path = bundle.Path() + "/out.txt";
  int fd = ::open(c.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    ADD_FAILURE() << "open " << c.out_path;
    return c;
  }
  std::string pid_file = bundle.Path() + "/init.pid";
  std::vector<std::string> args{"create", "--bundle", bundle.Path(), "--pid-file", pid_file};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(bundle.Id());
  opts.stdout_fd = fd;
  opts.stderr_fd = -1;  // keep create's own errors capturable
  if (opts.timeout == std::chrono::milliseconds(30000)) opts.timeout = std::chrono::seconds(15);
  c.result = root.Husk(args, opts);
  ::close(fd);
  if (c.result.ok()) c.pid = ReadPidFile(pid_file);
  return c;
}

std::string StartAndCollect(const TestRoot& root, Bundle& bundle, const Created& created) {
  CmdResult r = root.Husk({"start", bundle.Id()});
  EXPECT_TRUE(r.ok()) << r;
  if (created.pid > 0) EXPECT_TRUE(WaitForPidGone(created.pid)) << "container did not exit";
  try {
    return ReadFile(created.out_path);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    return "";
  }
}

ino_t NsInode(pid_t pid, const std::string& ns) {
  std::string path = (pid == 0 ? std::string("/proc/self") : "/proc/" + std::to_string(pid)) +
                     "/ns/" + ns;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

void UseUserNamespace(Bundle& b) {
  b.SetJson("/linux/namespaces",
            R"([{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},
                {"type":"mount"},{"type":"user"}])");
  b.SetJson("/linux/uidMappings", R"([{"containerID":0,"hostID":100000,"size":65536}])");
  b.SetJson("/linux/gidMappings", R"([{"containerID":0,"hostID":100000,"size":65536}])");
}

std::string StatusField(const std::string& status, const std::string& key) {
  for (const std::string& line : SplitLines(status)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string v = line.substr(key.size() + 1);
    size_t b = v.find_first_not_of(" \t");
    size_t e = v.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : v.substr(b, e - b + 1);
  }
  return "";
}

std::string MountInfoLine(const std::string& mountinfo, const std::string& mountpoint) {
  std::string found;
  for (const std::string& line : SplitLines(mountinfo)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    f >> id >> parent >> dev >> root >> mp;
    if (mp == mountpoint) found = line;
  }
  return found;
}

std::string MountOptionsOf(const std::string& mountinfo, const std::string& mountpoint) {
  std::istringstream f(MountInfoLine(mountinfo, mountpoint));
  std::string id, parent, dev, root, mp, opts;
  f >> id >> parent >> dev >> root >> mp >> opts;
  return opts;
}

std::string MountSuperOf(const std::string& mountinfo, const std::string& mountpoint) {
  std::string line = MountInfoLine(mountinfo, mountpoint);
  size_t sep = line.find(" - ");
  return sep == std::string::npos ? "" : line.substr(sep + 3);
}

bool HasOption(const std::string& opts, const std::string& opt) {
  return ("," + opts + ",").find("," + opt + ",") != std::string::npos;
}

std::string Section(const std::string& out, const std::string& name) {
  std::string marker = "@@" + name + "\n";
  size_t start = out.rfind(marker, 0) == 0 ? 0 : out.find("\n" + marker);
  if (start == std::string::npos) return "<no section " + name + ">";
  start = out.find(marker, start) + marker.size();
  size_t end = out.find("\n@@", start - 1);
  std::string s = out.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace husk::testing
