# recorder/: the transcript format and escort-recorder, built by role (as
# sudo keeps its I/O-log library apart from its log server):
#  - libescort-transcript: the format, files only (events, segments, seals,
#    the journal, Merkle log and tree heads, writer tw, reader tr, index,
#    verify_*, recovery, receipt lines).  No sockets: transcript.sym names
#    the calls it must not make and make check-symbols checks that none is
#    referenced.  escort-replay links only this (and libescort-common).
#  - libescort-recproto: the client side of the recorder protocol (wire
#    framing, the sender's state machine, no I/O of its own), what
#    escort-proxy links to talk to a recorder.  Needs libescort-transcript.
#  - the daemon, recd*.c and main.c: objects linked only into
#    escort-recorder.
#  - the object-store client s3*.c (libcurl, AWS SigV4), linked into
#    escort-recorder and escort-replay, and the recorder's shipper ship*.c
#    (escort-recorder only).  libcurl is not linked: s3_curl.c loads it
#    the first time a client opens, so that no command pays for loading
#    it (and its 28 dependencies) unless it reaches a bucket.
#    Its pruner prune*.c likewise (escort-recorder only).
# A new recorder/*.c is part of the format unless it is listed here as the
# protocol's or named recd*.  Link order: daemon, protocol, format, common.
# Unit tests tests/unit/test_rec_*.c and fuzzers tests/fuzz/fuzz_rec_*.c are
# picked up by name and link the two libraries; test_rec_config, of the
# daemon's configuration reader, links that one daemon object.
RECPROTO_SRC   := recorder/wire.c recorder/sender.c
RECD_SRC       := $(wildcard recorder/recd*.c)
S3_SRC         := $(wildcard recorder/s3*.c)
SHIP_SRC       := $(wildcard recorder/ship*.c)
PRUNE_SRC      := $(wildcard recorder/prune*.c)
S3_OBJ         := $(patsubst %.c,$(BUILD)/obj/%.o,$(S3_SRC))
TRANSCRIPT_SRC := $(filter-out recorder/main.c $(RECPROTO_SRC) $(RECD_SRC) $(S3_SRC) $(SHIP_SRC) $(PRUNE_SRC),$(wildcard recorder/*.c))
TRANSCRIPT_LIB := $(BUILD)/libescort-transcript.a
RECPROTO_LIB   := $(BUILD)/libescort-recproto.a
RECD_OBJ       := $(patsubst %.c,$(BUILD)/obj/%.o,recorder/main.c $(RECD_SRC) $(SHIP_SRC) $(PRUNE_SRC)) $(S3_OBJ)
$(eval $(call lib_rule,escort-transcript,$(TRANSCRIPT_SRC)))
$(eval $(call lib_rule,escort-recproto,$(RECPROTO_SRC)))
$(eval $(call program,escort-recorder,$(RECD_OBJ) $(RECPROTO_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB)))
$(foreach t,$(filter-out test_rec_config,$(basename $(notdir $(wildcard tests/unit/test_rec_*.c)))),\
  $(eval $(call unit_test,$(t),$(RECPROTO_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB))))
$(eval $(call unit_test,test_rec_config,$(BUILD)/obj/recorder/recd_config.o $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/fuzz/fuzz_rec_*.c))),\
  $(eval $(call fuzz_target,$(t),$(RECPROTO_SRC) $(TRANSCRIPT_SRC) $(COMMON_LIB_SRC))))
# test_rec_s3 links the object-store client (not in the libraries: again
# after its object, as replay's module tests do).
$(BUILD)/tests/test_rec_s3: $(S3_OBJ)
$(BUILD)/tests/test_rec_s3: LDLIBS += $(TRANSCRIPT_LIB) $(COMMON_LIB) -lcrypto
