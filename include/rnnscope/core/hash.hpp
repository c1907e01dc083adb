// FNV-1a, 64 bits: the fingerprint of a user's data (recognised again at a
// resume) and the checksum of the parameters compared over the processes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rnnscope {

inline constexpr std::uint64_t kFnv1aOffset = 1469598103934665603ULL;

/// Continues hash h over n bytes at data (in memory order).
inline std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = kFnv1aOffset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 1099511628211ULL;
  return h;
}

}  // namespace rnnscope
