/* lab-init: PID 1 of every lab-engine exec. It reads the environment and argv from a spec file on a tmpfs
 * mount under /dev, so neither secret variables nor removed variables ever reach the container's config
 * (which `docker commit` would copy into the image). Spec: env entries, an empty entry, then argv; NUL-separated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "lab-init: usage: lab-init SPEC\n"); return 127; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { fprintf(stderr, "lab-init: cannot open spec: %s\n", strerror(errno)); return 127; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc(size + 1);
  if (!buf || fread(buf, 1, size, f) != (size_t)size) { fprintf(stderr, "lab-init: cannot read spec\n"); return 127; }
  fclose(f);
  buf[size] = 0;
  char **env = calloc(size + 2, sizeof(char *)), **args = calloc(size + 2, sizeof(char *));
  int nenv = 0, nargs = 0, inArgs = 0;
  for (long i = 0; i < size;) {
    char *entry = buf + i;
    long len = strlen(entry);
    if (!inArgs && len == 0) inArgs = 1;
    else if (inArgs) args[nargs++] = entry;
    else env[nenv++] = entry;
    i += len + 1;
  }
  if (nargs == 0) { fprintf(stderr, "lab-init: no command\n"); return 127; }
  environ = env;
  execvp(args[0], args);
  fprintf(stderr, "exec %s: %s\n", args[0], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
