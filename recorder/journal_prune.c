/* journal_prune: the text of a PRUNE journal entry (journal_prune.h). */
#include <stdio.h>
#include <string.h>

#include "recorder/journal.h"
#include "recorder/journal_prune.h"
#include "recorder/rec_error.h"

/* The keys after the address, in the order they are written. */
enum jp_key { JP_USER, JP_TARGET, JP_NKEYS };

static const char *const jp_key_name[JP_NKEYS] = {
	[JP_USER] = "user",
	[JP_TARGET] = "target",
};

/* 1 when s holds no control byte (below 0x20, or 0x7f). */
static int
jp_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int
journal_prune_text_make(const char *address, const char *user,
    const char *target, char *out, size_t outsz)
{
	const char *val[JP_NKEYS] = { [JP_USER] = user, [JP_TARGET] = target };
	size_t len = strlen(address), max = outsz > 0 ? outsz - 1 : 0;
	int k;

	if (max > JOURNAL_TEXT_MAX)
		max = JOURNAL_TEXT_MAX;
	if (len == 0 || len > max || !jp_clean(address))
		return REC_EINVAL;
	memcpy(out, address, len + 1);
	for (k = 0; k < JP_NKEYS; k++) {
		size_t n;

		if (val[k] == NULL || val[k][0] == '\0' || !jp_clean(val[k]))
			continue;
		n = 1 + strlen(jp_key_name[k]) + 1 + strlen(val[k]);
		if (len + n > max)
			continue;
		snprintf(out + len, outsz - len, "\n%s=%s", jp_key_name[k],
		    val[k]);
		len += n;
	}
	return REC_OK;
}

/* Copies [p, p + n) into out (outsz bytes), cut to fit. */
static void
jp_copy(const char *p, size_t n, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

void
journal_prune_text_parse(const char *text, char *address, size_t addrsz,
    char *user, size_t usersz, char *target, size_t targetsz)
{
	char *const dst[JP_NKEYS] = { [JP_USER] = user, [JP_TARGET] = target };
	const size_t dsz[JP_NKEYS] = { [JP_USER] = usersz,
	    [JP_TARGET] = targetsz };
	const char *line, *eq;
	size_t n;
	int k;

	for (k = 0; k < JP_NKEYS; k++)
		jp_copy("", 0, dst[k], dsz[k]);
	if (text == NULL)
		text = "";
	n = strcspn(text, "\n");
	jp_copy(text, n, address, addrsz);
	for (line = text + n; *line == '\n'; line += n) {
		line++;
		n = strcspn(line, "\n");
		if ((eq = memchr(line, '=', n)) == NULL)
			continue;
		for (k = 0; k < JP_NKEYS; k++)
			if (strlen(jp_key_name[k]) == (size_t)(eq - line) &&
			    memcmp(line, jp_key_name[k], (size_t)(eq - line)) == 0)
				jp_copy(eq + 1, n - (size_t)(eq - line) - 1,
				    dst[k], dsz[k]);
	}
}
