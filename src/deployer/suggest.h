// "Did you mean ...?": the closest of a set of names to a mistyped one, for
// error messages (descriptor keys, subcommands, modules, connections).
// Pure functions, any thread.

#ifndef AEX_DEPLOYER_SUGGEST_H_
#define AEX_DEPLOYER_SUGGEST_H_

#include <span>
#include <string>
#include <string_view>

namespace aex::deploy {

// Edit distance counting insertions, deletions, substitutions and swaps of
// two adjacent characters (optimal string alignment).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `typo` if it is a plausible misspelling (at most
// 2 edits, or `typo` is a prefix of it, 3 characters or more), else "".
// Ties go to the first.
std::string ClosestName(std::string_view typo, std::span<const std::string_view> candidates);
std::string ClosestName(std::string_view typo, std::span<const std::string> candidates);

// " (did you mean 'NAME'?)" for ClosestName, or "".
std::string DidYouMean(std::string_view typo, std::span<const std::string> candidates);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_SUGGEST_H_
