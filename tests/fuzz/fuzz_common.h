// Shared by the fuzz targets: the invariant check, an input reader and a heap buffer with a poisoned guard zone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STUNBOX_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STUNBOX_FUZZ_ASAN 1
#endif
#ifdef STUNBOX_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

// A broken invariant is a crash: libFuzzer saves the input, the replay driver
// exits non-zero. abort() rather than a return code so both see it.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace stunbox::fuzz {

// Consumes control bytes from the front of the input; past the end it yields 0.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() {
    if (pos_ >= size_) return 0;
    return data_[pos_++];
  }
  const uint8_t* rest() const { return data_ + pos_; }
  size_t rest_size() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// `capacity` writable bytes on the heap followed by a guard zone. Under ASan
// the guard is poisoned, so any access past capacity (read or write) is a
// report at the faulting instruction; without ASan (the replay build) the
// guard's canary bytes are checked afterwards, which still catches writes.
class GuardedBuffer {
 public:
  static constexpr size_t kGuard = 64;
  static constexpr uint8_t kCanary = 0xEE;

  explicit GuardedBuffer(size_t capacity)
      : capacity_(capacity), mem_(new uint8_t[capacity + kGuard]) {
    std::memset(mem_.get() + capacity_, kCanary, kGuard);
#ifdef STUNBOX_FUZZ_ASAN
    ASAN_POISON_MEMORY_REGION(mem_.get() + capacity_, kGuard);
#endif
  }
  ~GuardedBuffer() {
#ifdef STUNBOX_FUZZ_ASAN
    ASAN_UNPOISON_MEMORY_REGION(mem_.get() + capacity_, kGuard);
#endif
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  uint8_t* data() { return mem_.get(); }
  size_t capacity() const { return capacity_; }

  // True when nothing was written at or past capacity.
  bool guard_intact() {
#ifdef STUNBOX_FUZZ_ASAN
    ASAN_UNPOISON_MEMORY_REGION(mem_.get() + capacity_, kGuard);
#endif
    bool ok = true;
    for (size_t i = 0; i < kGuard; ++i) ok &= mem_[capacity_ + i] == kCanary;
#ifdef STUNBOX_FUZZ_ASAN
    ASAN_POISON_MEMORY_REGION(mem_.get() + capacity_, kGuard);
#endif
    return ok;
  }

 private:
  size_t capacity_;
  std::unique_ptr<uint8_t[]> mem_;
};

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t rd32(const uint8_t* p) { return uint32_t{rd16(p)} << 16 | rd16(p + 2); }

}  // namespace stunbox::fuzz
