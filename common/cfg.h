/*
 * cfg: the table-driven reader both daemons use for their configuration
 * files (escort-proxy.conf(5), escort-recorder.conf(5)).
 *
 * A file is lines of a keyword and its arguments.  Words are separated by
 * blanks; a word in double quotes may hold blanks, and inside it \" and \\
 * stand for " and \.  A '#' at the start of a word starts a comment that
 * runs to the end of the line.  Keywords are case-insensitive.
 *
 * Each keyword is a row of a plain array of struct cfg_keyword.  For every
 * line the reader looks the keyword up, checks the number of arguments
 * against the row's min..max, rejects a second use of a row that is not
 * repeatable ("NAME given twice (first at line N)"), and only then calls the
 * row's handler.  Every problem is recorded and reading goes on, so one
 * read reports all of them: err holds one "FILE:LINE: message" a line
 * (whole-file problems "FILE: message"), newline-separated, no trailing
 * newline, cut short when err is full (the count stays exact).
 */
#ifndef ESCORT_CFG_H
#define ESCORT_CFG_H

#include <stddef.h>
#include <stdio.h>

#define CFG_LINE_MAX	4096	/* bytes of one line, newline included */
#define CFG_WORDS_MAX	32	/* keyword and arguments on one line */
#define CFG_KEYWORDS_MAX 64	/* rows of one table */

struct cfg;
struct cfg_keyword;

/*
 * Sets what one keyword means.  av[0..ac) are its arguments (the keyword
 * itself not included; ac is within the row's min..max), writable, valid
 * during the call only.  obj is the object given to cfg_read.  Returns
 * ESC_OK, ESC_ECONFIG after recording the problem with cfg_error (reading
 * goes on), or ESC_ENOMEM (reading stops).
 */
typedef int cfg_handler(struct cfg *p, const struct cfg_keyword *k,
    void *obj, char **av, int ac);

struct cfg_keyword {
	const char	*name;	/* as documented; matched case-insensitively */
	cfg_handler	*set;
	int		 min, max;	/* number of arguments */
	int		 repeat;	/* 1: may be given more than once */
	const char	*args;	/* "NAME takes ARGS" when the count is wrong */
	size_t		 off;	/* for handlers shared by several rows: the
				 * offset of the field they set in obj */
};

/* The state of one read.  Fields are the reader's: use the functions. */
struct cfg {
	const char	*file;
	int		 line;	/* line being read; 0: whole-file messages */
	char		*err;
	size_t		 errlen;
	size_t		 used;	/* bytes of err holding messages */
	int		 nerr;	/* problems recorded, also those cut off */
	int		 dropped;	/* of those, left out of err */
	const struct cfg_keyword *tab;	/* the table of the last read */
	size_t		 ntab;
	int		 seen[CFG_KEYWORDS_MAX];	/* line of a row's first use */
};

/* Starts a read of file (the name used in messages; the string must outlive
 * p) reporting into err[0..errlen), which is emptied. */
void	cfg_init(struct cfg *p, const char *file, char *err, size_t errlen);

/*
 * Opens p's file and reads it through the n rows of tab, giving obj to the
 * handlers.  Returns ESC_OK when the file was read to its end (problems,
 * if any, are counted by cfg_nerrors), ESC_EIO when it could not be opened
 * or read ("FILE: reason" recorded), ESC_ENOMEM from a handler, or
 * ESC_EINVAL for a table of more than CFG_KEYWORDS_MAX rows.  tab must
 * outlive p's use.  Leaves p's line at 0 for the caller's whole-file checks.
 */
int	cfg_read(struct cfg *p, const struct cfg_keyword *tab, size_t n,
	    void *obj);

/* The same on an open stream (not closed here). */
int	cfg_read_stream(struct cfg *p, FILE *f, const struct cfg_keyword *tab,
	    size_t n, void *obj);

/* Records "FILE:LINE: message" at p's current line ("FILE: message" at
 * line 0).  Returns ESC_ECONFIG, for handlers to return. */
int	cfg_error(struct cfg *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The same at a given line (0: the file). */
int	cfg_error_at(struct cfg *p, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* The line being read (0 outside cfg_read). */
int	cfg_line(const struct cfg *p);

/* The line the keyword row called name was first used on in the last read,
 * 0 when it was not (so a whole-file check can tell "missing" from "given
 * but wrong"). */
int	cfg_seen(const struct cfg *p, const char *name);

/* Problems recorded so far. */
int	cfg_nerrors(const struct cfg *p);

/*
 * Splits line (modified in place) into at most max words, av pointing into
 * it.  Returns the number of words, or ESC_ECONFIG after recording the
 * problem (unterminated quote, text after a closing quote, too many words).
 */
int	cfg_split(struct cfg *p, char *line, char **av, int max);

#endif
