#pragma once
// Shared by the backend's GPU tests: skip with a clear message where there is no GPU (CI).
#include <gtest/gtest.h>

#include "backend/gpu_job.hpp"

#define OCCULT_REQUIRE_GPUS(n)                                                                   \
  do {                                                                                           \
    const int have_ = ::occult::gpu::visible_gpus();                                             \
    if (have_ < (n)) GTEST_SKIP() << "needs " << (n) << " CUDA GPU(s), " << have_ << " visible"; \
  } while (0)
