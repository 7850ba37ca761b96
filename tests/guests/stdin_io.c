/* Reading stdin to EOF through both read(2) and stdio, and echoing transformed data: byte/line/word
   counts, a checksum, and the lines reversed. Usage: stdin_io [raw|lines]. */
#include "guest.h"
#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "lines";
    if (!strcmp(mode, "raw")) {
        /* Odd-sized reads so short reads and EOF handling both get exercised. */
        static unsigned char buf[1 << 22];
        size_t total = 0;
        int reads = 0;
        for (;;) {
            ssize_t n = read(0, buf + total, total + 3001 <= sizeof buf ? 3001 : sizeof buf - total);
            if (n < 0) {
                perror("read");
                return 1;
            }
            if (n == 0)
                break;
            total += (size_t)n;
            reads++;
        }
        ssize_t again = read(0, buf, 10);
        printf("raw bytes %zu reads>0 %d eof-again %zd hash %016lx\n", total, reads > 0, again,
               fnv1a(buf, total, FNV_INIT));
        return 0;
    }
    char *line = NULL;
    size_t cap = 0, nlines = 0, nwords = 0, nbytes = 0;
    ssize_t len;
    char **lines = NULL;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        nbytes += (size_t)len;
        int in = 0;
        for (ssize_t i = 0; i < len; i++) {
            int sp = isspace((unsigned char)line[i]);
            nwords += !sp && !in;
            in = !sp;
        }
        lines = realloc(lines, (nlines + 1) * sizeof *lines);
        lines[nlines++] = strdup(line);
    }
    printf("lines %zu words %zu bytes %zu eof %d\n", nlines, nwords, nbytes, feof(stdin) != 0);
    for (size_t i = nlines; i-- > 0;) {
        for (char *p = lines[i]; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        printf("%zu: %s", i, lines[i]);
        if (!strchr(lines[i], '\n'))
            printf("[no newline]\n");
    }
    return 0;
}
