/*
 * play_tty.c: "play" on a terminal: the recorded output with its timing,
 * driven by keys read in raw mode (see replay_play_tty in play_tty.h).
 *
 * State: one player per process (the terminal settings to restore are
 * static so that a signal handler can restore them).  The player keeps a
 * virtual clock (pos_ns, the session time shown) that advances with real
 * time times the speed while playing; the next output event is written
 * when the clock reaches it.  Seeking rebuilds the screen at the target
 * through screen_at.h (the snapshot cache) and draws it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/cmdlog.h"
#include "replay/play_tty.h"
#include "replay/replay.h"
#include "replay/screen_at.h"

#define PTTY_SEEK_NS	5000000000ull	/* left/right arrow */
#define PTTY_SPEED_MAX	64.0
#define PTTY_SPEED_MIN	(1.0 / 64)
/* What the terminal gets when the player leaves it. */
#define PTTY_LEAVE	"\033[0m\033[?25h\r\n"

static struct termios ptty_saved;
static volatile sig_atomic_t ptty_raw;

enum ptty_key {
	K_NONE, K_QUIT, K_PAUSE, K_FASTER, K_SLOWER, K_STEP, K_BACK, K_FORTH,
	K_NEXT, K_PREV
};

/* Single-byte keys. */
static const struct {
	unsigned char c;
	enum ptty_key k;
} ptty_keys[] = {
	{ 'q', K_QUIT }, { 'Q', K_QUIT }, { 0x03, K_QUIT }, { ' ', K_PAUSE },
	{ '+', K_FASTER }, { '=', K_FASTER }, { '-', K_SLOWER },
	{ '_', K_SLOWER }, { '.', K_STEP }, { 'n', K_NEXT }, { 'p', K_PREV },
};

struct ptty {
	const char *store, *id;
	struct tr *r;
	struct screen_at sa;
	double speed, max_wait;
	int paused;
	uint64_t pos_ns;	/* the session time shown */
	uint64_t last_mono;	/* when pos_ns was last advanced */
	struct buf next;	/* the next output event's bytes */
	uint64_t next_t;
	int have_next, ended;
	struct replay_cmdlog cmds;
	int cmds_loaded;
	size_t cmd_i;		/* the command jumped to last (+1; 0 none) */
};

static uint64_t
ptty_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Restores the terminal; safe in a signal handler. */
static void
ptty_restore(void)
{
	if (!ptty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &ptty_saved);
	(void)!write(STDOUT_FILENO, PTTY_LEAVE, sizeof(PTTY_LEAVE) - 1);
	ptty_raw = 0;
}

static int
ptty_enter_raw(void)
{
	struct termios t = ptty_saved;

	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) != 0)
		return -1;
	ptty_raw = 1;
	return 0;
}

/* Termination signals: the terminal restored, then the default action. */
static void
ptty_on_signal(int sig)
{
	ptty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Stopped from outside (kill -TSTP): restored while stopped, raw again
 * when continued. */
static void
ptty_on_tstp(int sig)
{
	int was = ptty_raw;

	ptty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
	signal(sig, ptty_on_tstp);
	if (was)
		ptty_enter_raw();
}

static const int ptty_term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void
ptty_signals(int on)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(ptty_term_signals) / sizeof(ptty_term_signals[0]);
	    i++) {
		sa.sa_handler = on ? ptty_on_signal : SIG_DFL;
		sigaction(ptty_term_signals[i], &sa, NULL);
	}
	sa.sa_handler = on ? ptty_on_tstp : SIG_DFL;
	sigaction(SIGTSTP, &sa, NULL);
}

/* Reads the next output event into p->next.  Returns 1, 0 at the end, or
 * a negative REC_E* code. */
static int
ptty_fetch(struct ptty *p)
{
	struct ev e;
	int x;

	while ((x = tr_next(p->r, &e)) == 1) {
		if (e.type != EV_OUTPUT && e.type != EV_STDERR)
			continue;
		buf_reset(&p->next);
		if (buf_put(&p->next, e.data, e.len) != 0)
			return REC_ENOMEM;
		p->next_t = e.t_ns;
		p->have_next = 1;
		return 1;
	}
	return x;
}

/* Writes the next event and moves the clock to it. */
static int
ptty_show_next(struct ptty *p)
{
	if (replay_write_all(buf_ptr(&p->next), buf_len(&p->next)) != 0)
		return -1;
	if (p->next_t > p->pos_ns)
		p->pos_ns = p->next_t;
	p->have_next = 0;
	return 0;
}

/* Draws the screen after every event up to at_ns (stop_seq 0) or before
 * event stop_seq, and continues from there.  Returns 0 or a REC_E* code. */
static int
ptty_seek(struct ptty *p, uint64_t at_ns, uint64_t stop_seq)
{
	struct screen_run s;
	struct buf out;
	int x;

	if ((x = screen_at_model(&p->sa, p->r, at_ns, stop_seq, &s)) != REC_OK) {
		screen_run_free(&s);
		return x;
	}
	buf_init(&out, 0);
	x = buf_put(&out, "\033[0m\033[H\033[2J", 10);
	if (x == 0 && s.open)
		x = vtm_paint(&s.m, &out);
	screen_run_free(&s);
	if (x != 0 || replay_write_all(buf_ptr(&out), buf_len(&out)) != 0) {
		buf_free(&out);
		return x != 0 ? REC_ENOMEM : REC_EIO;
	}
	buf_free(&out);
	p->pos_ns = at_ns;
	p->have_next = 0;
	p->ended = 0;
	return stop_seq != 0 ? tr_seek_seq(p->r, stop_seq) :
	    tr_seek_time(p->r, at_ns + 1);
}

/* The decisions of the session, read once by a second reader. */
static int
ptty_load_cmds(struct ptty *p)
{
	struct tr *r2;
	struct ev e;
	int x;

	if (p->cmds_loaded)
		return REC_OK;
	if ((x = replay_open_quiet(p->store, p->id, &r2)) != REC_OK)
		return x;
	while ((x = tr_next(r2, &e)) == 1)
		if ((x = replay_cmdlog_add_event(&p->cmds, &e)) != REC_OK)
			break;
	tr_free(r2);
	p->cmds_loaded = 1;
	return x < 0 ? x : REC_OK;
}

/* Jumps to the next (dir 1) or previous (dir -1) command from the clock:
 * the screen just before it.  Returns 0 or a REC_E* code. */
static int
ptty_jump(struct ptty *p, int dir)
{
	const struct replay_cmd_row *row;
	size_t i, pick = 0;
	int x;

	if ((x = ptty_load_cmds(p)) != REC_OK)
		return x;
	for (i = 0; i < p->cmds.n; i++) {
		row = &p->cmds.v[i];
		if (dir > 0 && (row->t_ns > p->pos_ns ||
		    (row->t_ns == p->pos_ns && i + 1 > p->cmd_i))) {
			pick = i + 1;
			break;
		}
		if (dir < 0 && (row->t_ns < p->pos_ns ||
		    (row->t_ns == p->pos_ns && i + 1 < p->cmd_i)))
			pick = i + 1;
	}
	if (pick == 0) {
		(void)!write(STDOUT_FILENO, "\a", 1);	/* none that way */
		return REC_OK;
	}
	p->cmd_i = pick;
	return ptty_seek(p, p->cmds.v[pick - 1].t_ns, p->cmds.v[pick - 1].ev_seq);
}

/* Reads the keys available on stdin: the first that means something. */
static enum ptty_key
ptty_read_key(void)
{
	unsigned char b[32];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));
	size_t i;

	if (n <= 0)
		return n == 0 ? K_QUIT : K_NONE;
	if (n >= 3 && b[0] == 0x1b && (b[1] == '[' || b[1] == 'O'))
		return b[2] == 'C' ? K_FORTH : b[2] == 'D' ? K_BACK : K_NONE;
	for (i = 0; i < sizeof(ptty_keys) / sizeof(ptty_keys[0]); i++)
		if (ptty_keys[i].c == b[0])
			return ptty_keys[i].k;
	return K_NONE;
}

/* Handles one key.  Returns 1 to quit, 0 to go on, or a REC_E* code. */
static int
ptty_key(struct ptty *p, enum ptty_key k)
{
	uint64_t end = p->sa.sum.last_t_ns;

	switch (k) {
	case K_QUIT:
		return 1;
	case K_PAUSE:
		p->paused = !p->paused;
		break;
	case K_FASTER:
		p->speed = p->speed * 2 > PTTY_SPEED_MAX ? PTTY_SPEED_MAX :
		    p->speed * 2;
		break;
	case K_SLOWER:
		p->speed = p->speed / 2 < PTTY_SPEED_MIN ? PTTY_SPEED_MIN :
		    p->speed / 2;
		break;
	case K_STEP:
		if (!p->paused) {
			p->paused = 1;
			break;
		}
		if (!p->have_next) {
			int x = ptty_fetch(p);
			if (x < 0)
				return x;
			if (x == 0)
				break;
		}
		if (ptty_show_next(p) != 0)
			return REC_EIO;
		break;
	case K_BACK:
		p->cmd_i = 0;
		return ptty_seek(p, p->pos_ns > PTTY_SEEK_NS ?
		    p->pos_ns - PTTY_SEEK_NS : 0, 0);
	case K_FORTH:
		p->cmd_i = 0;
		return ptty_seek(p, p->pos_ns + PTTY_SEEK_NS < end ?
		    p->pos_ns + PTTY_SEEK_NS : end, 0);
	case K_NEXT:
		return ptty_jump(p, 1);
	case K_PREV:
		return ptty_jump(p, -1);
	default:
		break;
	}
	return 0;
}

/* The first window size the session records (0 x 0: none). */
static void
ptty_recorded_size(struct tr *r, uint64_t *cols, uint64_t *rows)
{
	struct ev e;

	*cols = *rows = 0;
	while (tr_next(r, &e) == 1) {
		if (e.type != EV_RESIZE && e.type != EV_CHANNEL)
			continue;
		if (ev_fields_get_u64(e.data, e.len, EVF_COLS, cols) == REC_OK &&
		    ev_fields_get_u64(e.data, e.len, EVF_ROWS, rows) == REC_OK)
			break;
		*cols = *rows = 0;
	}
	tr_seek_seq(r, 1);
}

/* The main loop.  Returns 0 at the end or on quit, or a REC_E* code. */
static int
ptty_loop(struct ptty *p)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	uint64_t now, ahead;
	double wait;
	int x, timeout;

	p->last_mono = ptty_mono();
	for (;;) {
		now = ptty_mono();
		if (!p->paused)
			p->pos_ns += (uint64_t)((double)(now - p->last_mono) *
			    p->speed);
		p->last_mono = now;
		if (!p->have_next && !p->ended) {
			if ((x = ptty_fetch(p)) < 0)
				return x;
			p->ended = x == 0;
		}
		timeout = -1;
		if (p->have_next && !p->paused) {
			ahead = p->next_t > p->pos_ns ? p->next_t - p->pos_ns : 0;
			wait = (double)ahead / 1e9 / p->speed;
			if (p->max_wait >= 0 && wait > p->max_wait) {
				p->pos_ns = p->next_t - (uint64_t)(p->max_wait *
				    p->speed * 1e9);
				wait = p->max_wait;
			}
			if (wait <= 0) {
				if (ptty_show_next(p) != 0)
					return REC_EIO;
				continue;
			}
			timeout = wait > 1 ? 1000 : (int)(wait * 1000) + 1;
		} else if (p->ended && !p->paused) {
			return 0;	/* the end of the session */
		}
		x = poll(&pfd, 1, timeout);
		if (x < 0 && errno != EINTR)
			return REC_EIO;
		if (x > 0 && (x = ptty_key(p, ptty_read_key())) != 0)
			return x == 1 ? 0 : x;
	}
}

int
replay_play_tty(const char *store, const char *id, struct tr *r,
    double speed, double max_wait, uint64_t from_ns, uint64_t from_seq)
{
	struct ptty p = { .store = store, .id = id, .r = r, .speed = speed,
	    .max_wait = max_wait };
	struct winsize ws;
	uint64_t cols, rows;
	int x;

	buf_init(&p.next, 0);
	if ((x = screen_at_init(&p.sa, store, id, r, 0)) != REC_OK)
		goto out;
	if (from_seq == 0 && from_ns > p.sa.sum.last_t_ns) {
		replay_err("play: %s: --from %.3f is past the end of the session: "
		    "its last event is at %.3f s", id, (double)from_ns / 1e9,
		    (double)p.sa.sum.last_t_ns / 1e9);
		screen_at_free(&p.sa);
		buf_free(&p.next);
		return 1;
	}
	ptty_recorded_size(r, &cols, &rows);
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && cols > 0 &&
	    (ws.ws_col < cols || ws.ws_row < rows))
		replay_err("play: warning: this terminal is %ux%u, smaller than "
		    "the recording's %llux%llu: long lines wrap and the screen "
		    "is not shown as it was", ws.ws_col, ws.ws_row,
		    (unsigned long long)cols, (unsigned long long)rows);
	fprintf(stderr, "escort-replay: play %s: space pause, + - speed, . step, "
	    "<- -> 5 s, n p next/previous command, q quit\n", id);
	if (tcgetattr(STDIN_FILENO, &ptty_saved) != 0) {
		x = REC_EIO;
		goto out;
	}
	ptty_signals(1);
	if (ptty_enter_raw() != 0) {
		ptty_signals(0);
		x = REC_EIO;
		goto out;
	}
	x = REC_OK;
	if (from_ns != 0 || from_seq != 0)
		x = ptty_seek(&p, from_ns, from_seq);
	if (x == REC_OK)
		x = ptty_loop(&p);
	ptty_restore();
	ptty_signals(0);
out:
	if (x < 0)
		replay_err("play: %s: %s at offset %llu", replay_esc(id),
		    rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	screen_at_free(&p.sa);
	replay_cmdlog_free(&p.cmds);
	buf_free(&p.next);
	return x < 0 ? replay_rec_status(x) : 0;
}
