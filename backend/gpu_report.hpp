#pragma once
// gpu-run results as one JSON document (--json) or a table for people.
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/gpu_job.hpp"
#include "sim/core/run_record.hpp"

namespace occult::gpu {

// bf16 tolerance on the relative Frobenius error (issue 5).
inline constexpr double kTolerance = 1e-2;

bool job_passed(const JobResult& r);
// The measured run as occult validate reads it back (sim/core/run_record.hpp).
RunRecord job_record(const GpuJob& job, const JobResult& r, const std::string& path);
nlohmann::json job_to_json(const GpuJob& job, const JobResult& r, const std::string& path);
void print_job(std::ostream& os, const GpuJob& job, const JobResult& r, const std::string& path);

}  // namespace occult::gpu
