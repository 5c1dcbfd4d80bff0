// Requests a module issues (SM_REQUEST): seal, send, and wait for the
// authenticated response. Its own object, linked only into modules whose glue
// calls aex_issue_request, i.e. that declare a request.

#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_internal.h"
#include "wire/module_messages.h"

namespace aex::runtime {
namespace {

// Frames a module queues while it waits for a response.
constexpr size_t kMaxDeferred = 1024;

}  // namespace

using wire::ModuleStats;
using wire::MsgType;

int Runtime::IssueRequest(uint16_t index, ByteSpan data, uint8_t* resp, size_t cap,
                          size_t* resp_len) {
  if (disabled_) return AEX_ERR_DISABLED;
  if (index >= request_conn_.size() || request_conn_[index] == 0) return AEX_ERR_NOT_CONNECTED;
  if (data.size() > AEX_MAX_PAYLOAD) return AEX_ERR_TOO_LARGE;
  uint32_t conn_id = request_conn_[index];
  Connection& conn = conns_.at(conn_id);
  uint32_t request_id = ++next_request_id_;
  if (request_id == 0) request_id = ++next_request_id_;
  if (!SealAndSend(conn_id, conn, MsgType::kRequest, request_id, data).ok()) {
    return AEX_ERR_TRANSPORT;
  }
  const uint64_t counter = conn.sent;
  Count(ModuleStats::kRequestsSent);
  take_deferred_ = &Runtime::TakeDeferred;
  Bytes body;
  for (;;) {
    if (!channel_.ReadBody(&body).ok()) exit(0);  // node gone
    auto frame = wire::ParseFrameBody(body);
    if (frame.ok() && frame->type == MsgType::kResult && frame->request_id == request_id) {
      auto result = wire::ResultMsg::Parse(frame->payload);
      if (!result.ok() || result->code != Code::kOk) return AEX_ERR_TRANSPORT;
      // The connection may not have changed meanwhile: nothing else ran.
      uint64_t got = 0;
      Bytes plain;
      if (!channel::OpenEvent(*conn.aead, conn_id, channel::Direction::kBackward,
                              result->payload, &got, &plain)
               .ok() ||
          got != counter) {
        Count(ModuleStats::kRejectedAuth);
        return AEX_ERR_AUTH;
      }
      if (plain.size() > cap) return AEX_ERR_TOO_LARGE;
      if (!plain.empty()) memcpy(resp, plain.data(), plain.size());
      *resp_len = plain.size();
      return AEX_OK;
    }
    // Handled after this call returns (Run); bounded, so that a node flooding
    // a module that waits for a response cannot exhaust its memory.
    if (deferred_.size() >= kMaxDeferred) {
      Count(ModuleStats::kDeferredDropped);
      continue;
    }
    deferred_.push_back(std::move(body));
  }
}

bool Runtime::TakeDeferred(Bytes* body) {
  if (deferred_.empty()) return false;
  *body = std::move(deferred_.front());
  deferred_.pop_front();
  return true;
}

}  // namespace aex::runtime

extern "C" int aex_issue_request(uint16_t index, const unsigned char* data, size_t len,
                                 unsigned char* resp, size_t cap, size_t* resp_len) {
  using aex::runtime::g_runtime;
  if (!g_runtime) return AEX_ERR_TRANSPORT;
  return g_runtime->IssueRequest(index, aex::ByteSpan(data, len), resp, cap, resp_len);
}
