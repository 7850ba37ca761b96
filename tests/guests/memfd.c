/* memfd_create: an anonymous in-memory file behaves like a regular file (read, write, lseek,
   ftruncate, fstat, MAP_SHARED mmap), is inherited across fork with a shared offset, honours
   MFD_CLOEXEC, and rejects unknown flags and over-long names. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err_name(int e) {
    switch (e) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENOSYS: return "ENOSYS";
    default: return "other";
    }
}

/* "ok" or the errno name of a call's result. */
static const char *res(long r) { return r < 0 ? err_name(errno) : "ok"; }

static long memfd(const char *name, unsigned flags) { return syscall(SYS_memfd_create, name, flags); }

static void show_stat(int fd, const char *when) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        printf("%s: fstat %s\n", when, err_name(errno));
        return;
    }
    printf("%s: regular=%d perm=%o size=%lld\n", when, S_ISREG(st.st_mode) ? 1 : 0,
           (unsigned)(st.st_mode & 07777), (long long)st.st_size);
}

int main(void) {
    int fd = (int)memfd("test", MFD_CLOEXEC);
    printf("create: %s fd>2=%d\n", res(fd), fd > 2);
    if (fd < 0)
        return 1;
    printf("cloexec: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    printf("accmode rdwr: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    show_stat(fd, "new");

    const char *text = "hello memfd world";
    printf("write: %zd\n", write(fd, text, strlen(text)));
    printf("offset after write: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    char buf[64] = {0};
    printf("lseek 6: %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    printf("read: %zd '%.5s'\n", read(fd, buf, 5), buf);
    printf("lseek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("read at end: %zd\n", read(fd, buf, sizeof buf));
    show_stat(fd, "written");

    printf("ftruncate 3: %s\n", res(ftruncate(fd, 3)));
    show_stat(fd, "shrunk");
    memset(buf, 0, sizeof buf);
    printf("pread: %zd '%s'\n", pread(fd, buf, sizeof buf, 0), buf);
    printf("ftruncate 8192: %s\n", res(ftruncate(fd, 8192)));
    show_stat(fd, "grown");
    printf("pread zero-filled: %zd byte0=%d\n", pread(fd, buf, 4, 4000), buf[0]);
    printf("pwrite: %zd\n", pwrite(fd, "mapped!", 7, 4096 + 100));

    /* A shared mapping sees what was written through the fd. */
    char *map = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        printf("mmap: %s\n", err_name(errno));
    } else {
        printf("mmap: '%.3s' '%.7s' zero=%d\n", map, map + 4096 + 100, map[4000]);
        printf("munmap: %s\n", res(munmap(map, 8192)));
    }

    /* A forked child shares the open file and its offset. */
    lseek(fd, 0, SEEK_SET);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char c[4] = {0};
        ssize_t n = read(fd, c, 3);
        printf("child read: %zd '%s'\n", n, c);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("parent offset after child read: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("close: %s\n", res(close(fd)));

    int plain = (int)memfd("plain", 0);
    printf("no cloexec: %s %d\n", res(plain), plain >= 0 ? fcntl(plain, F_GETFD) & FD_CLOEXEC : -1);
    close(plain);
    int sealable = (int)memfd("sealable", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    printf("allow sealing: %s\n", res(sealable));
    close(sealable);
    int two = (int)memfd("", 0);
    int three = (int)memfd("", 0);
    printf("empty names: %s %s distinct=%d\n", res(two), res(three), two != three);
    write(two, "abc", 3);
    printf("independent: size of other %lld\n", (long long)lseek(three, 0, SEEK_END));
    close(two);
    close(three);

    char name[300];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    long r = memfd(name, 0);
    printf("name 249: %s\n", res(r));
    if (r >= 0)
        close((int)r);
    name[249] = 'n';
    name[250] = 0;
    printf("name 250: %s\n", res(memfd(name, 0)));
    printf("unknown flag: %s\n", res(memfd("x", 0x100)));
    printf("exec and noexec: %s\n", res(memfd("x", 0x18)));
    printf("null name: %s\n", res(memfd(NULL, 0)));
    printf("read closed: %s\n", res(read(fd, buf, 1)));
    return 0;
}
