// SPDX-License-Identifier: MIT
/*
 * kern_vmasplit.c - fault in the first page of a fresh two-page anonymous
 * mapping, split the mapping with mprotect, then fault in its second
 * page; tells the kernel-collector tests the mapping's address and the
 * page size on fd 3 ("key=value" lines). The second fault must be seen in
 * the vma the split made, not in the one the first fault saw.
 *
 * Usage: kern_vmasplit
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define REPORT_FD 3

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *buf;
	char line[128];
	int n;

	/* No transparent huge pages: one fault per 4 KiB page. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	n = snprintf(line, sizeof(line), "buf=%llu\npage=%ld\n",
		     (unsigned long long)(unsigned long)buf, page);
	if (write(REPORT_FD, line, n) != n)
		return 1;
	buf[0] = 1;
	if (mprotect((char *)buf + page, page, PROT_READ))
		return 1;
	return buf[page];
}
