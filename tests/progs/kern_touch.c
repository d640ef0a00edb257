// SPDX-License-Identifier: MIT
/*
 * kern_touch.c - touch N pages of a fresh anonymous mapping, then read its
 * own /proc/self/status; tells the kernel-collector tests what it did on
 * fd 3 (buffer address and length, its tid, the RSS counters it read and
 * when, how long touching took and the CPU time it used), one "key=value"
 * per line.
 *
 * Usage: kern_touch PAGES
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define REPORT_FD 3

/* Read at program start so reading it later cannot fault in new pages. */
static char status[16384];

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static long field_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long t0, t1, before, after, cpu_ns;
	struct rusage ru;
	char line[512];
	size_t pages, i, len;
	ssize_t n;
	char *buf;
	int fd;

	if (argc != 2)
		return 2;
	pages = strtoull(argv[1], NULL, 10);
	len = pages * page;
	/* No transparent huge pages: one fault per 4 KiB page. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	madvise(buf, len, MADV_NOHUGEPAGE);
	fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0 || read(fd, status, sizeof(status) - 1) < 0)
		return 1;
	n = snprintf(line, sizeof(line), "buf=%llu\nlen=%zu\ntid=%ld\n",
		     (unsigned long long)(unsigned long)buf, len, (long)syscall(SYS_gettid));
	if (write(REPORT_FD, line, n) != n)
		return 1;
	t0 = now_ns();
	for (i = 0; i < pages; i++)
		buf[i * page] = 1;
	t1 = now_ns();
	before = now_ns();
	n = pread(fd, status, sizeof(status) - 1, 0);
	after = now_ns();
	if (n <= 0)
		return 1;
	status[n] = '\0';
	getrusage(RUSAGE_SELF, &ru);
	cpu_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	n = snprintf(line, sizeof(line), "anon_kb=%ld\nfile_kb=%ld\nshmem_kb=%ld\n"
		     "status_before=%llu\nstatus_after=%llu\ntouch_ns=%llu\ncpu_ns=%llu\n",
		     field_kb(status, "RssAnon:"), field_kb(status, "RssFile:"),
		     field_kb(status, "RssShmem:"), before, after, t1 - t0, cpu_ns);
	if (write(REPORT_FD, line, n) != n)
		return 1;
	return 0;
}
