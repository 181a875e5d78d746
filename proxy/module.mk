# proxy/: libescort-proxy + escort-proxy.  Library = every proxy/*.c but main.c;
# links against the policy library, the recorder protocol (libescort-recproto)
# and the transcript format it needs (event fields, receipt lines: the linker
# takes those objects only).  Tests by name: test_proxy_*, fuzz_proxy_*.
PROXY_LIB_SRC := $(filter-out proxy/main.c,$(wildcard proxy/*.c))
PROXY_LIB     := $(BUILD)/libescort-proxy.a
$(eval $(call lib_rule,escort-proxy,$(PROXY_LIB_SRC)))
# libescort-xfer: the transfer parsers alone (SFTP filter, scp watcher,
# streams and records; no I/O, no sessions), for escort-replay's extract;
# scp_watch reads command lines with libescort-policy's parser.
XFER_LIB_SRC := $(filter-out proxy/xfer_chan.c,$(wildcard proxy/xfer_*.c))
XFER_LIB     := $(BUILD)/libescort-xfer.a
$(eval $(call lib_rule,escort-xfer,$(XFER_LIB_SRC)))
$(eval $(call program,escort-proxy,$(BUILD)/obj/proxy/main.o $(PROXY_LIB) $(POL_LIB) $(RECPROTO_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB)))
$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_proxy_*.c))),\
  $(eval $(call unit_test,$(t),$(PROXY_LIB) $(POL_LIB) $(RECPROTO_LIB) $(TRANSCRIPT_LIB) $(COMMON_LIB))))
$(foreach t,$(basename $(notdir $(wildcard tests/fuzz/fuzz_proxy_*.c))),\
  $(eval $(call fuzz_target,$(t),$(PROXY_LIB_SRC) $(POL_LIB_SRC) $(RECPROTO_SRC) $(TRANSCRIPT_SRC) $(COMMON_LIB_SRC))))
