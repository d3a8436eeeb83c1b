/*
 * parent_death - a child that outlives its parent ends, whatever it is
 * doing.
 *
 * Why: a daemon whose master was killed kept port 25 and the queue's
 * Berkeley DB regions: blocked on a lock-region mutex, in a client's
 * session or inside failchk, it never read the end of file on its pipe
 * from master, and a new master failed with "Address already in use"
 * until the orphans were killed by hand.  The kernel tells a process
 * when its parent dies (PR_SET_PDEATHSIG); these helpers turn that into
 * an exit.
 *
 * The setting is cleared by every change of the effective or filesystem
 * ids, so it is made after a process has dropped privileges, and then
 * the parent is checked once: it may have died before.
 */
#ifndef PANACEA_PARENT_DEATH_H
#define PANACEA_PARENT_DEATH_H

#include <sys/types.h>

/* Sends sig to this process when parent dies; -1 when parent (the pid
 * this process had as its parent) is already gone, 0 otherwise. */
int parent_death_signal(pid_t parent, int sig);

/*
 * When parent dies, this process has grace_s seconds to end by itself
 * (its event loop sees master's pipe close and exits in order), then
 * SIGALRM ends it.  Uses SIGUSR2 and SIGALRM: the process must not use
 * them otherwise.  -1 when parent is already gone.
 */
int parent_death_grace(pid_t parent, unsigned grace_s);

/*
 * With parent_death_grace(): the n listening sockets from first_fd on
 * stop listening the moment parent dies (shutdown(2), which acts on the
 * socket every process holding it shares), before the grace begins. A
 * new master can then listen on the same addresses at once, while this
 * process finishes the session it is in.
 */
void parent_death_release(int first_fd, int n);

#endif
