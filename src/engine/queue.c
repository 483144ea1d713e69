/* queue.c: bounded ring buffer with a mutex and two condition variables.
 * Called by the sync engine (planner pushes, workers pop). */
#include "queue.h"
#include "util/error.h"

#include <pthread.h>
#include <stdlib.h>

struct nv_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	void **items;
	size_t cap, head, len;
	int closed;
};

int nv_queue_new(nv_queue **out, size_t capacity)
{
	nv_queue *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (!q || !(q->items = calloc(capacity, sizeof(void *)))) {
		free(q);
		return nv_error_set(NV_ERR, "out of memory");
	}
	q->cap = capacity;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	*out = q;
	return 0;
}

void nv_queue_free(nv_queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->items);
	free(q);
}

int nv_queue_push(nv_queue *q, void *item)
{
	pthread_mutex_lock(&q->mu);
	/* A full queue takes items again once half of it was worked off, not at
	 * each pop: a producer faster than the workers (a pull submits pointers)
	 * would otherwise sleep and be woken once per item. */
	if (q->len == q->cap)
		while (q->len > q->cap / 2 && !q->closed)
			pthread_cond_wait(&q->not_full, &q->mu);
	if (q->closed) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	q->items[(q->head + q->len) % q->cap] = item;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void *nv_queue_pop(nv_queue *q)
{
	void *item = NULL;

	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->mu);
	if (q->len > 0) {
		item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		if (q->len == q->cap / 2)
			pthread_cond_broadcast(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return item;
}

void nv_queue_close(nv_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}
