#include "backend/calibrate.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "backend/gpu_error.hpp"
#include "backend/gpu_job.hpp"
#include "backend/provenance.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {
namespace {

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw GpuError("cannot find this executable (/proc/self/exe) to start the per-path children");
  return std::string(buf, std::size_t(n));
}

std::string run_child(const std::string& cmd) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw GpuError("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) throw GpuError("calibration child failed (exit status " + std::to_string(rc) + "): " + cmd);
  return out;
}

std::vector<LinkCalibration> measure_links_in_children(const CalibrateOptions& opt) {
  std::vector<LinkCalibration> out;
  const std::string exe = self_exe();
  struct Job {
    std::string cls, transport;
  };
  std::vector<Job> jobs;
  for (const auto& cls : opt.paths) jobs.push_back({cls, "nccl"});
  if (opt.p2p) jobs.push_back({"nvlink", "p2p"});
  for (const auto& job : jobs) {
    const std::string env = nccl_env_for(job.cls);
    const std::string cmd = (env.empty() ? std::string() : "env " + env + " ") + "'" + exe +
                            "' calibrate --link-only --nccl-mode " + opt.nccl_mode + " --transport " +
                            job.transport + (opt.quick ? " --quick" : "") + " --gpus " +
                            std::to_string(opt.gpus) + " --iters " + std::to_string(opt.iters) +
                            " --timeout " + std::to_string(int(opt.timeout_s));
    std::cerr << "calibrate: measuring " << job.cls << " (" << job.transport << ") in a child process: " << cmd
              << "\n";
    // The child's links are read through the profile reader, so they are validated like any file.
    nlohmann::json j = calibration_to_json(CalibrationProfile{});
    j["links"] = nlohmann::json::parse(run_child(cmd)).at("links");
    for (auto& l : j["links"]) l["nominal_GBps"] = opt.nominal_GBps.at(job.cls);
    for (auto& l : calibration_from_json(j, job.cls + " calibration child").links) out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

void merge_links(CalibrationProfile& base, const std::vector<LinkCalibration>& links) {
  for (const auto& l : links) {
    auto it = std::find_if(base.links.begin(), base.links.end(), [&](const LinkCalibration& b) {
      return b.link_class == l.link_class && b.transport == l.transport && b.nccl_mode == l.nccl_mode;
    });
    if (it != base.links.end()) {
      *it = l;
    } else {
      base.links.push_back(l);
    }
  }
}

nlohmann::json links_to_json(const std::vector<LinkCalibration>& links) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& l : links) {
    // The parent adds the path's nominal figure; a child does not know it.
    LinkCalibration c = l;
    if (c.nominal_Bps <= 0) c.nominal_Bps = 1;
    a.push_back(link_to_json(c));
  }
  return {{"links", a}};
}

CalibrationProfile calibrate(const CalibrateOptions& opt) {
  CalibrationProfile prof;
  prof.provenance = collect_provenance();
  if (!opt.links_only) {
    measure_compute(opt, prof);
    measure_kernels(opt, prof);
  }
  if (!opt.compute_only && (!opt.paths.empty() || opt.p2p)) {
    const int n = opt.gpus > 0 ? opt.gpus : visible_gpus();
    if (n < 2 && !launched_by_mpi()) {
      std::cerr << "calibrate: one GPU visible: no links measured (they need two or more; the profile's "
                   "links can be merged from another machine's profile with --links-from)\n";
    } else {
      merge_links(prof, measure_links_in_children(opt));
    }
  }
  return prof;
}

}  // namespace occult::gpu
