// The tests' precompiled header (test_support.h) is built with this target; each test reuses it.
