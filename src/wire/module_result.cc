// ResultMsg::Parse in an object of its own: a module parses a RESULT only
// when it awaits the response to its own request (runtime/request.cc), so a
// module without SM_REQUEST does not link it.

#include "wire/module_messages.h"

namespace aex::wire {

Result<ResultMsg> ResultMsg::Parse(ByteSpan p) {
  ByteReader r(p);
  ResultMsg m;
  uint16_t code;
  if (!r.ReadU16(&code) || !r.ReadString16(&m.message) || !r.ReadLengthPrefixed(&m.payload) ||
      !r.empty()) {
    return InvalidArgument("malformed RESULT");
  }
  m.code = code <= static_cast<uint16_t>(Code::kDisabled) ? static_cast<Code>(code)
                                                           : Code::kInternal;
  return m;
}

}  // namespace aex::wire
