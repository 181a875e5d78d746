# replay/: escort-replay, reading recordings through libescort-transcript (the
# format library, no sockets), and libescort-xfer (the proxy's transfer
# parsers) to rebuild files; libescort-xfer reads scp command lines with
# libescort-policy's command-line parser, so that is linked too.  It uses
# nothing of the recorder protocol and does not link it.  Tests by name:
# test_replay_*.
REPLAY_SRC := $(wildcard replay/*.c)
$(eval $(call program,escort-replay,$(patsubst %.c,$(BUILD)/obj/%.o,$(REPLAY_SRC)) $(S3_OBJ) $(XFER_LIB) $(POL_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_replay_*.c))),\
  $(eval $(call unit_test,$(t),$(TRANSCRIPT_LIB) $(COMMON_LIB))))
# Unit tests of replay's own pure modules link them too.
$(BUILD)/tests/test_replay_search_text: $(BUILD)/obj/replay/search_text.o
# The evidence bundle's README and checker are built in (evidence_text.c).
$(BUILD)/obj/replay/evidence_text.o: replay/evidence/README.txt replay/evidence/verify.py
$(BUILD)/tests/test_replay_evidence_proof: $(BUILD)/obj/replay/evidence_proof.o
$(BUILD)/tests/test_replay_vtmodel: $(BUILD)/obj/replay/vtmodel.o
$(BUILD)/tests/test_replay_search_index: $(BUILD)/obj/replay/search_index.o $(BUILD)/obj/replay/search_text.o
# (its objects come after the libraries on the command line: again after them)
$(BUILD)/tests/test_replay_search_index: LDLIBS += $(TRANSCRIPT_LIB) $(COMMON_LIB) -lcrypto -lzstd
