#!/bin/sh
# ticketq_corpus.sh - the mail corpus (tests/data/ticketq/corpus, one file per
# rule: shapes of MIME, threading, robots, bounces, loops, attachments)
# delivered in order through `ticketq deliver`; every message's expected
# outcome is in tests/data/ticketq/expect.txt.  Then the invariants, the JSON
# shape and a reindex that must rebuild the same index.
. "${srcdir:-$(dirname "$0")/..}/lib.sh"
t_init ticketq_corpus
[ -x "$TICKETQ_BIN" ] || t_skip "ticketq not built"
if TICKETQ_BIN=$TICKETQ_BIN "$PYTHON3" "$srcdir/data/ticketq/corpus.py" "$T/queue"; then
	t_pass "corpus"
else
	t_fail "corpus"
fi
t_done
