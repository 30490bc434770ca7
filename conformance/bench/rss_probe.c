// husk_bench_rss OUT CMD [ARGS...]: runs CMD and writes its peak RSS (wait4 ru_maxrss, KiB)
// to OUT; exits with CMD's status.
//
// Why a separate, static helper: ru_maxrss survives execve, so a command spawned straight
// from husk_bench reports at least husk_bench's own RSS (~6 MB: libstdc++, heap). Spawned
// from this tiny static process instead, the floor is its ~0.1-0.2 MB.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s OUT CMD [ARGS...]\n", argv[0]);
    return 2;
  }
  pid_t pid = vfork();
  if (pid < 0) return 125;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int st = 0;
  struct rusage ru;
  if (wait4(pid, &st, 0, &ru) != pid) return 125;
  FILE* f = fopen(argv[1], "w");
  if (!f) return 125;
  fprintf(f, "%ld\n", ru.ru_maxrss);
  fclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
