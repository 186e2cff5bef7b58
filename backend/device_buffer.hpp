#pragma once
// Owning device allocation. Allocation failure names what was asked for and what is free, because
// out-of-memory on a shared GPU is an input-size problem the user can act on.
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

namespace occult::gpu {

void* device_alloc(std::size_t bytes, const char* what);  // throws GpuError with sizes on failure
void device_free(void* p) noexcept;

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t count, const char* what)
      : p_(static_cast<T*>(device_alloc(count * sizeof(T), what))), n_(count) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { device_free(p_); }

  T* get() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace occult::gpu
