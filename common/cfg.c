/* cfg: table-driven configuration-file reader (see cfg.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cfg.h"
#include "common/esc_error.h"

void
cfg_init(struct cfg *p, const char *file, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->file = file;
	p->err = err;
	p->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

int
cfg_line(const struct cfg *p)
{
	return p->line;
}

int
cfg_nerrors(const struct cfg *p)
{
	return p->nerr;
}

static long cfg_lookup(const struct cfg_keyword *tab, size_t n,
    const char *name);

int
cfg_seen(const struct cfg *p, const char *name)
{
	long i = p->tab ? cfg_lookup(p->tab, p->ntab, name) : -1;

	return i < 0 ? 0 : p->seen[i];
}

/* Appends one message line for line (0: the file) to p's errors.  A
 * message that does not fit whole is left out (never cut in the middle)
 * and counted in a last line "FILE: N more problems not shown". */
static int
cfg_verror(struct cfg *p, int line, const char *fmt, va_list ap)
{
	size_t room, start = p->used;
	int n, m;

	p->nerr++;
	if (p->errlen == 0 || p->used + 2 >= p->errlen)
		return ESC_ECONFIG;
	if (p->dropped == 0) {
		if (p->used > 0)
			p->err[p->used++] = '\n';
		room = p->errlen - p->used;
		n = line > 0 ? snprintf(p->err + p->used, room, "%s:%d: ",
		    p->file, line) : snprintf(p->err + p->used, room, "%s: ",
		    p->file);
		m = n < 0 || (size_t)n >= room ? -1 :
		    vsnprintf(p->err + p->used + n, room - n, fmt, ap);
		/* room is kept for the last line of what is left out */
		if (m >= 0 && (size_t)m + strlen(p->file) + 40 < room - n) {
			p->used += strlen(p->err + p->used);
			return ESC_ECONFIG;
		}
		p->used = start;	/* cut: left out whole */
	}
	p->dropped++;
	room = p->errlen - p->used;
	n = snprintf(p->err + p->used, room, "%s%s: %d more problem%s not "
	    "shown", p->used > 0 ? "\n" : "", p->file, p->dropped,
	    p->dropped == 1 ? "" : "s");
	if (n < 0 || (size_t)n >= room)
		p->err[p->used] = '\0';	/* not even that fits */
	return ESC_ECONFIG;
}

int
cfg_error(struct cfg *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, p->line, fmt, ap);
	va_end(ap);
	return ESC_ECONFIG;
}

int
cfg_error_at(struct cfg *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(p, line, fmt, ap);
	va_end(ap);
	return ESC_ECONFIG;
}

/* Reads one "quoted word" starting after its opening quote at *sp; the
 * unquoted text is written over the line from o.  Leaves *sp after it. */
static int
cfg_quoted(struct cfg *p, char **sp)
{
	char *s = *sp, *o = s;

	while (*s != '"') {
		if (*s == '\0')
			return cfg_error(p, "unterminated quoted string");
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*o++ = *s++;
	}
	s++;
	*o = '\0';
	if (*s != '\0' && !isspace((unsigned char)*s))
		return cfg_error(p, "text after closing quote");
	*sp = s;
	return ESC_OK;
}

int
cfg_split(struct cfg *p, char *s, char **av, int max)
{
	int ac = 0;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || *s == '#')
			return ac;
		if (ac == max)
			return cfg_error(p, "too many arguments");
		if (*s == '"') {
			av[ac++] = ++s;
			if (cfg_quoted(p, &s) != ESC_OK)
				return ESC_ECONFIG;
		} else {
			av[ac++] = s;
			while (*s != '\0' && !isspace((unsigned char)*s))
				s++;
			if (*s != '\0')
				*s++ = '\0';
		}
	}
}

/* Finds av[0] in tab; returns its index or -1. */
static long
cfg_lookup(const struct cfg_keyword *tab, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(tab[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Checks and applies one line's words. */
static int
cfg_apply(struct cfg *p, const struct cfg_keyword *tab, size_t n, void *obj,
    char **av, int ac)
{
	int *seen = p->seen;
	const struct cfg_keyword *k;
	long i;

	if ((i = cfg_lookup(tab, n, av[0])) < 0)
		return cfg_error(p, "unknown keyword \"%s\"", av[0]);
	k = &tab[i];
	if (ac - 1 < k->min || ac - 1 > k->max)
		return cfg_error(p, "%s takes %s", k->name, k->args);
	if (seen[i] != 0 && !k->repeat)
		return cfg_error(p, "%s given twice (first at line %d)",
		    k->name, seen[i]);
	if (seen[i] == 0)
		seen[i] = p->line;
	return k->set(p, k, obj, av + 1, ac - 1);
}

int
cfg_read_stream(struct cfg *p, FILE *f, const struct cfg_keyword *tab,
    size_t n, void *obj)
{
	char line[CFG_LINE_MAX], *av[CFG_WORDS_MAX];
	int ac, rc = ESC_OK, skip = 0;

	if (n > CFG_KEYWORDS_MAX)
		return ESC_EINVAL;
	p->tab = tab;
	p->ntab = n;
	memset(p->seen, 0, sizeof(p->seen));
	p->line = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		int whole = strchr(line, '\n') != NULL || feof(f);

		if (skip) {		/* the rest of a line too long */
			skip = !whole;
			continue;
		}
		p->line++;
		if (!whole) {
			cfg_error(p, "line too long (at most %d bytes)",
			    CFG_LINE_MAX - 1);
			skip = 1;
			continue;
		}
		if ((ac = cfg_split(p, line, av, CFG_WORDS_MAX)) <= 0)
			continue;
		if (cfg_apply(p, tab, n, obj, av, ac) == ESC_ENOMEM) {
			rc = ESC_ENOMEM;
			break;
		}
	}
	if (rc == ESC_OK && ferror(f)) {
		p->line = 0;
		cfg_error(p, "read error");
		rc = ESC_EIO;
	}
	p->line = 0;
	return rc;
}

int
cfg_read(struct cfg *p, const struct cfg_keyword *tab, size_t n, void *obj)
{
	FILE *f;
	int rc;

	if ((f = fopen(p->file, "r")) == NULL) {
		cfg_error(p, "%s", strerror(errno));
		return ESC_EIO;
	}
	rc = cfg_read_stream(p, f, tab, n, obj);
	fclose(f);
	return rc;
}
