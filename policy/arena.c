/* arena.c: the bump allocator holding all of a policy's memory. */
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

#define CHUNK_SIZE (64 * 1024)

void *
pol__arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		if (size == n && a->head != NULL) {
			/* keep filling the current chunk afterwards */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *
pol__arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = pol__arena_alloc(a, n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *
pol__arena_strdup(struct arena *a, const char *s)
{
	return pol__arena_strndup(a, s, strlen(s));
}

void *
pol__arena_push(struct arena *a, void *vp, size_t *n, size_t *cap, size_t sz)
{
	void **v = vp;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *nv = pol__arena_alloc(a, ncap * sz);
		if (nv == NULL)
			return NULL;
		if (*n)
			memcpy(nv, *v, *n * sz);
		*v = nv;
		*cap = ncap;
	}
	void *e = (char *)*v + (*n)++ * sz;
	memset(e, 0, sz);
	return e;
}

void
pol__arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}
