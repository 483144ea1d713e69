/* queue.h: a bounded blocking queue between the planner and the workers, so
 * memory depends on the queue length, never on the number of files. */
#ifndef NV_QUEUE_H
#define NV_QUEUE_H

#include <stddef.h>

typedef struct nv_queue nv_queue;

int nv_queue_new(nv_queue **out, size_t capacity);
void nv_queue_free(nv_queue *q);
/* Blocks while full. Returns -1 (item not taken) once the queue is closed. */
int nv_queue_push(nv_queue *q, void *item);
/* Blocks while empty; NULL once the queue is closed and drained. */
void *nv_queue_pop(nv_queue *q);
/* No more pushes; wakes every waiter. */
void nv_queue_close(nv_queue *q);

#endif
