// SPDX-License-Identifier: MIT
/*
 * leaky.c - the README demo: a few distinct call stacks, some leaking, some
 * freed, behind nested functions so the stacks are worth reading.
 *
 * Its own calls, all malloc (plus the stdio buffer of stdout):
 *   build_table -> table_insert -> node_new     10 x 48 bytes, all freed
 *   load_config -> parse_line -> copy_value      3 x 100 bytes, definitely lost
 *   leak_deep -> recurse x5 -> leaf_alloc        1 x 1024 bytes, definitely lost
 *   make_list -> list_push                       2 x 32 bytes: the head definitely
 *                                                lost, the second node indirectly lost
 *   cache_init                                   1 x 256 bytes, still reachable
 *                                                (a global points at it)
 * Totals of its own calls: 17 mallocs, 10 frees, 2124 bytes allocated.
 * At exit: 1644 bytes in 7 blocks live: definitely lost 1356 bytes in 5
 * blocks, indirectly lost 32 bytes in 1 block, still reachable 256 bytes in
 * 1 block. A correct report shows exactly these leaks, one line per stack.
 * The program prints the same figures on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_NODES 10
#define NODE_BYTES 48
#define CONFIG_LINES 3
#define VALUE_BYTES 100
#define DEEP_LEVELS 5
#define DEEP_BYTES 1024
#define LIST_NODE_BYTES 32
#define CACHE_BYTES 256

struct node {
	struct node *next;
	char payload[NODE_BYTES - sizeof(struct node *)];
};

struct list_node {
	struct list_node *next;
	char payload[LIST_NODE_BYTES - sizeof(struct list_node *)];
};

static char *cache;

/* noinline everywhere: each function must stay a frame of its own. */
static __attribute__((noinline)) struct node *node_new(int i)
{
	struct node *n = malloc(sizeof(*n));

	if (!n)
		abort();
	memset(n->payload, i, sizeof(n->payload));
	n->next = NULL;
	return n;
}

static __attribute__((noinline)) struct node *table_insert(struct node *head, int i)
{
	struct node *n = node_new(i);

	n->next = head;
	return n;
}

static __attribute__((noinline)) void build_table(void)
{
	struct node *head = NULL, *next;
	int i;

	for (i = 0; i < TABLE_NODES; i++)
		head = table_insert(head, i);
	for (; head; head = next) {
		next = head->next;
		free(head);
	}
}

static __attribute__((noinline)) char *copy_value(const char *line)
{
	char *v = malloc(VALUE_BYTES);

	if (!v)
		abort();
	snprintf(v, VALUE_BYTES, "%s", line);
	return v;
}

static __attribute__((noinline)) void parse_line(const char *line)
{
	char *value = copy_value(line);

	/* The pointer is dropped here: definitely lost. */
	value[0] = 'x';
}

static __attribute__((noinline)) void load_config(void)
{
	static const char *const lines[CONFIG_LINES] = { "a=1", "b=2", "c=3" };
	int i;

	for (i = 0; i < CONFIG_LINES; i++)
		parse_line(lines[i]);
}

static __attribute__((noinline)) void leaf_alloc(void)
{
	char *p = malloc(DEEP_BYTES);

	if (!p)
		abort();
	memset(p, 0, DEEP_BYTES);
}

static __attribute__((noinline)) void recurse(int level)
{
	if (level == 0)
		leaf_alloc();
	else
		recurse(level - 1);
}

static __attribute__((noinline)) void leak_deep(void)
{
	recurse(DEEP_LEVELS - 1);
}

static __attribute__((noinline)) struct list_node *list_push(struct list_node *head)
{
	struct list_node *n = malloc(sizeof(*n));

	if (!n)
		abort();
	memset(n->payload, 0, sizeof(n->payload));
	n->next = head;
	return n;
}

static __attribute__((noinline)) void make_list(void)
{
	struct list_node *head = list_push(NULL);

	head = list_push(head);
	/* head dropped: head definitely lost, head->next indirectly lost. */
	head->payload[0] = 1;
}

static __attribute__((noinline)) void cache_init(void)
{
	cache = malloc(CACHE_BYTES);
	if (!cache)
		abort();
	memset(cache, 0, CACHE_BYTES);
}

int main(void)
{
	build_table();
	load_config();
	leak_deep();
	make_list();
	cache_init();
	printf("own_mallocs=%d own_frees=%d own_bytes=%d\n",
	       TABLE_NODES + CONFIG_LINES + 1 + 2 + 1, TABLE_NODES,
	       TABLE_NODES * NODE_BYTES + CONFIG_LINES * VALUE_BYTES + DEEP_BYTES +
		       2 * LIST_NODE_BYTES + CACHE_BYTES);
	printf("definitely_lost_bytes=%d definitely_lost_blocks=%d\n",
	       CONFIG_LINES * VALUE_BYTES + DEEP_BYTES + LIST_NODE_BYTES, CONFIG_LINES + 2);
	printf("indirectly_lost_bytes=%d indirectly_lost_blocks=1\n", LIST_NODE_BYTES);
	printf("still_reachable_bytes=%d still_reachable_blocks=1\n", CACHE_BYTES);
	return 0;
}
