/* calc: the web demo's interactive guest, an integer calculator REPL with its own line editing (raw terminal input). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_LEN 256
#define HISTORY 32
#define VARS 26

/* ---- Output: straight write(2) calls, so echo and results interleave in order ---- */

static void out_bytes(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            exit(1);
        s += w;
        n -= (size_t)w;
    }
}

static void out(const char *s) { out_bytes(s, strlen(s)); }

static void outf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_bytes(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- Expression evaluation: recursive descent over 64-bit signed integers ---- */

typedef struct {
    const char *s;   /* the whole line */
    size_t pos;      /* next character */
    const char *err; /* first error, or NULL */
    size_t err_pos;
} parser;

static int64_t vars[VARS]; /* a..z */
static int var_set[VARS];
static int64_t ans;
static int have_ans;

static void fail(parser *p, const char *msg) {
    if (!p->err) {
        p->err = msg;
        p->err_pos = p->pos;
    }
}

static void skip_space(parser *p) {
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static int64_t expr(parser *p);

static int64_t number(parser *p) {
    const char *start = p->s + p->pos;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(start, &end, 0); /* decimal, 0x hex, 0 octal */
    if (errno == ERANGE || v > INT64_MAX) {
        fail(p, "number too large");
        v = 0;
    }
    p->pos += (size_t)(end - start);
    return (int64_t)v;
}

static int64_t primary(parser *p) {
    skip_space(p);
    char c = p->s[p->pos];
    if (c == '(') {
        p->pos++;
        int64_t v = expr(p);
        skip_space(p);
        if (p->s[p->pos] != ')')
            fail(p, "expected ')'");
        else
            p->pos++;
        return v;
    }
    if (c == '-' || c == '+') {
        p->pos++;
        int64_t v = primary(p);
        if (c == '+')
            return v;
        if (v == INT64_MIN) {
            fail(p, "overflow");
            return 0;
        }
        return -v;
    }
    if (c >= '0' && c <= '9')
        return number(p);
    if (c >= 'a' && c <= 'z') {
        if (strncmp(p->s + p->pos, "ans", 3) == 0 &&
            !(p->s[p->pos + 3] >= 'a' && p->s[p->pos + 3] <= 'z')) {
            p->pos += 3;
            if (!have_ans)
                fail(p, "no previous answer");
            return ans;
        }
        if (p->s[p->pos + 1] >= 'a' && p->s[p->pos + 1] <= 'z') {
            fail(p, "unknown name (variables are single letters a-z)");
            return 0;
        }
        p->pos++;
        if (!var_set[c - 'a'])
            fail(p, "variable not set");
        return vars[c - 'a'];
    }
    fail(p, c ? "unexpected character" : "unexpected end of line");
    return 0;
}

static int64_t term(parser *p) {
    int64_t v = primary(p);
    for (;;) {
        skip_space(p);
        char op = p->s[p->pos];
        if (op != '*' && op != '/' && op != '%')
            return v;
        p->pos++;
        size_t at = p->pos;
        int64_t r = primary(p);
        if (p->err)
            return 0;
        if (op == '*') {
            if (__builtin_mul_overflow(v, r, &v)) {
                p->pos = at;
                fail(p, "overflow");
            }
        } else if (r == 0) {
            p->pos = at;
            fail(p, "division by zero");
        } else if (v == INT64_MIN && r == -1) {
            p->pos = at;
            fail(p, "overflow");
        } else {
            v = op == '/' ? v / r : v % r;
        }
    }
}

static int64_t expr(parser *p) {
    int64_t v = term(p);
    for (;;) {
        skip_space(p);
        char op = p->s[p->pos];
        if (op != '+' && op != '-')
            return v;
        p->pos++;
        size_t at = p->pos;
        int64_t r = term(p);
        if (p->err)
            return 0;
        int overflow = op == '+' ? __builtin_add_overflow(v, r, &v) : __builtin_sub_overflow(v, r, &v);
        if (overflow) {
            p->pos = at;
            fail(p, "overflow");
        }
    }
}

/* ---- Commands ---- */

static int interactive; /* stdin is a terminal: prompt and echo */

static void show_help(void) {
    out("Integer calculator (64-bit, running as a RISC-V Linux program).\n"
        "  6*7            evaluate: + - * / % ( ), unary -, 0x1f hex\n"
        "  x = 2*(3+4)    set a variable (a-z); 'ans' is the last result\n"
        "  echo TEXT      print TEXT\n"
        "  vars           list variables\n"
        "  size           terminal size, as ioctl(TIOCGWINSZ) reports it\n"
        "  help, exit     this text; leave (or Ctrl-D)\n"
        "Keys: Backspace, Left/Right, Home/End, Up/Down history, Ctrl-A/E/U/C/L.\n");
}

static void show_size(void) {
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0)
        outf("%u rows x %u columns\n", ws.ws_row, ws.ws_col);
    else
        outf("stdout is not a terminal (%s)\n", strerror(errno));
}

/* Evaluate one line; returns 0 to exit. */
static int execute(const char *line) {
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    char cmd[LINE_MAX_LEN + 1];
    memcpy(cmd, line, n);
    cmd[n] = 0;
    if (n == 0)
        return 1;
    if (!strcmp(cmd, "exit") || !strcmp(cmd, "quit"))
        return 0;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        show_help();
        return 1;
    }
    if (!strcmp(cmd, "size")) {
        show_size();
        return 1;
    }
    if (!strcmp(cmd, "vars")) {
        int any = 0;
        for (int i = 0; i < VARS; i++)
            if (var_set[i]) {
                outf("%c = %lld\n", 'a' + i, (long long)vars[i]);
                any = 1;
            }
        if (have_ans)
            outf("ans = %lld\n", (long long)ans);
        else if (!any)
            out("(no variables)\n");
        return 1;
    }
    if (!strcmp(cmd, "echo") || !strncmp(cmd, "echo ", 5)) {
        outf("%s\n", n > 5 ? cmd + 5 : "");
        return 1;
    }

    parser p = {cmd, 0, NULL, 0};
    int target = -1;
    /* "x = expr" assigns; otherwise the whole line is an expression. */
    if (cmd[0] >= 'a' && cmd[0] <= 'z') {
        size_t k = 1;
        while (cmd[k] == ' ')
            k++;
        if (cmd[k] == '=') {
            target = cmd[0] - 'a';
            p.pos = k + 1;
        }
    }
    int64_t v = expr(&p);
    skip_space(&p);
    if (!p.err && cmd[p.pos])
        fail(&p, "unexpected character");
    if (p.err) {
        size_t col = p.err_pos + (interactive ? 2 : 0); /* under the prompt "$ " */
        if (interactive && col < 200)
            outf("%*s^\n", (int)col, "");
        outf("error: %s\n", p.err);
        return 1;
    }
    if (target >= 0) {
        vars[target] = v;
        var_set[target] = 1;
    }
    ans = v;
    have_ans = 1;
    outf("%lld\n", (long long)v);
    return 1;
}

/* ---- Line editing on a raw terminal: we echo and redraw ourselves ---- */

static char history[HISTORY][LINE_MAX_LEN + 1];
static int history_len;

static void redraw(const char *line, size_t len, size_t cur) {
    out("\r$ ");
    out_bytes(line, len);
    out("\x1b[K"); /* clear to end of line */
    if (len > cur)
        outf("\x1b[%zuD", len - cur);
}

/* Read a line into buf (NUL-terminated). Returns 0 at end of input. */
static int read_line(char *buf) {
    static char in[128];
    static size_t in_len, in_pos;
    static int last_cr;
    size_t len = 0, cur = 0;
    int hist = history_len; /* history_len = the line being edited */
    int esc = 0;            /* 0 none, 1 after ESC, 2 after ESC [ */
    int esc_num = 0;
    buf[0] = 0;
    if (interactive)
        out("$ ");
    for (;;) {
        if (in_pos == in_len) {
            ssize_t r = read(0, in, sizeof in);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (len > 0) { /* last line without a newline */
                    buf[len] = 0;
                    if (interactive)
                        out("\n");
                    return 1;
                }
                return 0;
            }
            in_len = (size_t)r;
            in_pos = 0;
        }
        unsigned char c = (unsigned char)in[in_pos++];
        if (c == '\n' && last_cr) { /* CR LF counts as one Enter */
            last_cr = 0;
            continue;
        }
        last_cr = c == '\r';
        if (esc == 1) {
            esc = c == '[' || c == 'O' ? 2 : 0;
            esc_num = 0;
            continue;
        }
        if (esc == 2) {
            if (c >= '0' && c <= '9') {
                esc_num = esc_num * 10 + (c - '0');
                continue;
            }
            esc = 0;
            if (!interactive)
                continue;
            if (c == 'D' && cur > 0)
                cur--;
            else if (c == 'C' && cur < len)
                cur++;
            else if (c == 'H' || (c == '~' && (esc_num == 1 || esc_num == 7)))
                cur = 0;
            else if (c == 'F' || (c == '~' && (esc_num == 4 || esc_num == 8)))
                cur = len;
            else if (c == '~' && esc_num == 3 && cur < len) {
                memmove(buf + cur, buf + cur + 1, len - cur - 1);
                len--;
            } else if ((c == 'A' && hist > 0) || (c == 'B' && hist < history_len)) {
                hist += c == 'A' ? -1 : 1;
                const char *h = hist < history_len ? history[hist] : "";
                len = cur = strlen(h);
                memcpy(buf, h, len);
            }
            redraw(buf, len, cur);
            continue;
        }
        switch (c) {
        case '\r':
        case '\n':
            buf[len] = 0;
            if (interactive)
                out("\n");
            if (len > 0 && (history_len == 0 || strcmp(history[history_len - 1], buf))) {
                if (history_len == HISTORY) {
                    memmove(history[0], history[1], sizeof history[0] * (HISTORY - 1));
                    history_len--;
                }
                strcpy(history[history_len++], buf);
            }
            return 1;
        case 0x1b:
            esc = 1;
            break;
        case 0x7f: /* Backspace (DEL) */
        case 0x08: /* Ctrl-H */
            if (cur > 0) {
                memmove(buf + cur - 1, buf + cur, len - cur);
                cur--;
                len--;
                if (interactive)
                    redraw(buf, len, cur);
            }
            break;
        case 0x01: /* Ctrl-A */
            cur = 0;
            if (interactive)
                redraw(buf, len, cur);
            break;
        case 0x05: /* Ctrl-E */
            cur = len;
            if (interactive)
                redraw(buf, len, cur);
            break;
        case 0x15: /* Ctrl-U */
            len = cur = 0;
            if (interactive)
                redraw(buf, len, cur);
            break;
        case 0x03: /* Ctrl-C: abandon the line */
            if (interactive)
                out("^C\n$ ");
            len = cur = 0;
            hist = history_len;
            break;
        case 0x04: /* Ctrl-D: end of input on an empty line */
            if (len == 0) {
                if (interactive)
                    out("exit\n");
                return 0;
            }
            break;
        case 0x0c: /* Ctrl-L */
            if (interactive) {
                out("\x1b[H\x1b[2J");
                redraw(buf, len, cur);
            }
            break;
        default:
            if (c >= 0x20 && c < 0x7f && len < LINE_MAX_LEN) {
                memmove(buf + cur + 1, buf + cur, len - cur);
                buf[cur++] = (char)c;
                len++;
                if (interactive) {
                    if (cur == len)
                        out_bytes((const char *)&c, 1); /* typing at the end: plain echo */
                    else
                        redraw(buf, len, cur);
                }
            }
            break;
        }
    }
}

/* The terminal's mode before raw mode, restored at exit. */
static struct termios saved_mode;

static void restore_mode(void) { tcsetattr(0, TCSAFLUSH, &saved_mode); }

/* This program edits its own lines: ask the terminal for raw input without echo (as
 * shells with line editing do), so the host's line discipline passes keys straight on. */
static void raw_mode(void) {
    if (tcgetattr(0, &saved_mode) != 0)
        return;
    struct termios raw = saved_mode;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(0, TCSAFLUSH, &raw) == 0)
        atexit(restore_mode);
}

int main(void) {
    interactive = isatty(0);
    if (interactive)
        raw_mode();
    if (interactive)
        out("friscy calc: a RISC-V Linux program running in libfriscy. Type 'help'.\n");
    char line[LINE_MAX_LEN + 1];
    while (read_line(line)) {
        if (!execute(line))
            break;
    }
    return 0;
}
