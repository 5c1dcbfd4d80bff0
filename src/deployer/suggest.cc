#include "deployer/suggest.h"

#include <algorithm>
#include <vector>

namespace aex::deploy {

size_t EditDistance(std::string_view a, std::string_view b) {
  // Three rows of the (a.size()+1) x (b.size()+1) table: the one before
  // `prev` is needed for transpositions.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

std::string ClosestName(std::string_view typo, std::span<const std::string_view> candidates) {
  if (typo.empty() || typo.size() > 64) return "";  // keep the distance computation cheap
  std::string_view best;
  size_t best_distance = 3;  // suggest only close misspellings
  for (std::string_view candidate : candidates) {
    size_t d = EditDistance(typo, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  if (best.empty() && typo.size() >= 3) {
    for (std::string_view candidate : candidates) {
      if (candidate.starts_with(typo)) return std::string(candidate);
    }
  }
  return std::string(best);
}

std::string ClosestName(std::string_view typo, std::span<const std::string> candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return ClosestName(typo, std::span<const std::string_view>(views));
}

std::string DidYouMean(std::string_view typo, std::span<const std::string> candidates) {
  std::string best = ClosestName(typo, candidates);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

}  // namespace aex::deploy
