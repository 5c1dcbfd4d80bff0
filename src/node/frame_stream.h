// FrameStream: one framed, full-duplex byte stream (TCP to a deployer or peer
// node, or the socketpair to a module) driven by the node's Asio loop.
//
// Reads are buffered and parsed in bulk; writes are coalesced: frames queued
// while a write is in flight go out together in the next write, and frames
// queued while a WriteBatch is open go out when it closes. A stream opens one
// around the frames of each read, so the frames a burst makes any stream send
// leave in one write per stream (one system call; docs/performance.md), and
// an idle stream still sends at once. A plain socket (TCP, unix) and a
// module's rings are written directly first, without a completion to run;
// TLS only through async_write. Memory is bounded:
// a frame larger than the limit or an output queue beyond its bound closes
// the stream or refuses the send, never grows without limit. A read buffer
// grows with the bytes actually received, never with the length a frame
// announces, and the streams of one node can share one BufferBudget.

#ifndef AEX_NODE_FRAME_STREAM_H_
#define AEX_NODE_FRAME_STREAM_H_

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/messages.h"

namespace aex::node {

// One bound for the bytes buffered by many streams together (a node's
// sessions): what a stream holds beyond its small free allowance (FrameStream
// kFreeRead / kFreeQueue) is taken from here, and a stream that cannot take
// what it needs is closed. Single-threaded, like the node's loop.
class BufferBudget {
 public:
  explicit BufferBudget(size_t limit) : limit_(limit) {}
  // Takes n bytes; false (and counted) if that would pass the limit.
  bool Take(size_t n) {
    if (n > limit_ - used_) {
      ++refused_;
      return false;
    }
    used_ += n;
    return true;
  }
  void Give(size_t n) { used_ -= std::min(n, used_); }
  size_t used() const { return used_; }
  size_t limit() const { return limit_; }
  uint64_t refused() const { return refused_; }

 private:
  size_t limit_;
  size_t used_ = 0;
  uint64_t refused_ = 0;
};

// Defers the writes of every stream on this thread while one is open:
// FrameStream::Send only queues then, and the outermost batch starts each
// deferred stream's write when it closes (destructor). Open one around code
// that sends several frames (a read's frames, an ACK with its notices) so
// that they leave in one write. Thread-local: each io_context thread has its
// own; a batch must open and close within one handler.
class WriteBatch {
 public:
  // Something whose queued frames wait for the batch.
  class Writer {
   public:
    virtual void WriteDeferred() = 0;

   protected:
    ~Writer() = default;
  };

  WriteBatch() { ++depth_; }
  ~WriteBatch() {
    if (--depth_ > 0) return;
    // Swapped out first: a write started here may (through a handler that
    // runs later, never inline) defer into a new batch.
    std::vector<std::shared_ptr<Writer>> writers;
    writers.swap(writers_);
    for (const auto& w : writers) w->WriteDeferred();
    writers.clear();
    if (writers_.empty()) writers_.swap(writers);  // keeps the capacity
  }
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // True, and `w` written when the outermost batch closes, if one is open on
  // this thread; false: write now. REQUIRES: `w` is not already deferred.
  static bool Defer(std::shared_ptr<Writer> w) {
    if (depth_ == 0) return false;
    writers_.push_back(std::move(w));
    return true;
  }

 private:
  inline static thread_local int depth_ = 0;
  inline static thread_local std::vector<std::shared_ptr<Writer>> writers_;
};

namespace internal {
// True for a Socket FrameStream may write to directly (non-blocking, in the
// caller): a plain Asio socket (TCP, unix) or a module's rings (ModuleRing);
// false for a TLS stream, which is written with async_write only.
template <typename S, typename = void>
inline constexpr bool kWritesDirectly = false;
template <typename S>
inline constexpr bool kWritesDirectly<
    S, std::void_t<decltype(std::declval<S&>().non_blocking(true, std::declval<asio::error_code&>())),
                   decltype(std::declval<S&>().write_some(asio::const_buffer(),
                                                          std::declval<asio::error_code&>()))>> =
    true;
}  // namespace internal

// A framed stream, whatever carries it.
class FrameLink {
 public:
  using FrameHandler = std::function<void(const wire::Frame&)>;
  using CloseHandler = std::function<void(const Status&)>;

  virtual ~FrameLink() = default;
  // Starts reading. on_frame runs for each complete frame (its payload is
  // valid only during the call); on_close runs once when the stream ends.
  virtual void Start(FrameHandler on_frame, CloseHandler on_close) = 0;
  // Queues one frame. Returns false if the stream is closed or its queue is
  // full (the caller decides what refusing means).
  virtual bool Send(wire::MsgType type, uint32_t request_id, ByteSpan payload) = 0;
  // Queues a module message with its module id replaced, without re-encoding.
  virtual bool SendOp(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op) = 0;
  virtual void Close(const Status& why = Status::Ok()) = 0;
  // Frames larger than this close the stream (e.g. tiny before HELLO).
  virtual void set_max_frame(size_t n) = 0;
  virtual bool is_open() const = 0;
  virtual size_t queued_bytes() const = 0;
  // Charges what this stream buffers beyond its allowance to `budget`
  // (given back on close). Call before Start.
  virtual void set_budget(std::shared_ptr<BufferBudget> budget) = 0;
  // When bytes last arrived (or the stream was made).
  virtual std::chrono::steady_clock::time_point last_read() const = 0;
  // Since when the frame at the head of the input has been incomplete; none
  // when no frame is partly received. Lets the owner enforce a deadline per
  // frame.
  virtual std::optional<std::chrono::steady_clock::time_point> partial_since() const = 0;
  // Flow control: while paused, no frame is delivered (not even one already
  // read) and nothing more is read, so the sender is held back by its own
  // transport; resuming delivers what waits, then reads on. Pausing may come
  // from inside on_frame (the frames after it wait). REQUIRES: resuming runs
  // in a handler of the stream's loop, never inside this stream's on_frame.
  virtual void set_paused(bool paused) = 0;
};

template <typename Socket>
class FrameStream final : public FrameLink,
                          public WriteBatch::Writer,
                          public std::enable_shared_from_this<FrameStream<Socket>> {
 public:
  FrameStream(Socket socket, size_t max_queued_bytes)
      : socket_(std::move(socket)), max_queued_(max_queued_bytes) {}
  // Builds the socket in place from `args` (a TLS stream is not movable
  // into place once its handshake may have started).
  template <typename... Args>
  FrameStream(size_t max_queued_bytes, std::in_place_t, Args&&... args)
      : socket_(std::forward<Args>(args)...), max_queued_(max_queued_bytes) {}

  ~FrameStream() override { Uncharge(); }

  void Start(FrameHandler on_frame, CloseHandler on_close) override {
    on_frame_ = std::move(on_frame);
    on_close_ = std::move(on_close);
    ReadMore();
  }

  bool Send(wire::MsgType type, uint32_t request_id, ByteSpan payload) override {
    if (closed_ || queued_bytes() + payload.size() > max_queued_) return false;
    if (!Charge(in_.capacity(), queued_bytes() + wire::kFrameHeaderSize +
                                    wire::kBodyHeaderSize + payload.size())) {
      return false;
    }
    wire::AppendFrame(type, request_id, payload, &pending_);
    FlushSoon();
    return true;
  }

  bool SendOp(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op) override {
    if (closed_ || queued_bytes() + op.data.size() > max_queued_) return false;
    if (!Charge(in_.capacity(), queued_bytes() + wire::kFrameHeaderSize +
                                    wire::kBodyHeaderSize + 12 + op.data.size())) {
      return false;
    }
    size_t at = pending_.size();
    pending_.resize(at + wire::kFrameHeaderSize + wire::kBodyHeaderSize);
    StoreU32(pending_.data() + at, static_cast<uint32_t>(wire::kBodyHeaderSize + 12 +
                                                         op.data.size()));
    pending_[at + 4] = static_cast<uint8_t>(type);
    StoreU32(pending_.data() + at + 5, request_id);
    op.AppendTo(&pending_);
    FlushSoon();
    return true;
  }

  void Close(const Status& why = Status::Ok()) override {
    if (closed_) return;
    // What was sent before closing (e.g. the reason for a refusal) goes out
    // first, as without a batch: the write's first attempt is made at once.
    Flush();
    closed_ = true;
    // On the transport itself: a TLS close_notify would need a round trip,
    // and closing the descriptor aborts a handshake or I/O in progress.
    asio::error_code ignored;
    socket_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.lowest_layer().close(ignored);
    // The buffers stay until the stream is destroyed (a read or write in
    // flight may still refer to them), but no longer count against a budget.
    partial_since_.reset();
    Uncharge();
    if (on_close_) {
      auto cb = std::move(on_close_);
      on_close_ = nullptr;
      // on_frame_ stays: Close may run from inside it. Handlers must not
      // own the stream (capture weak or node-owned pointers).
      cb(why);
    }
  }

  void set_max_frame(size_t n) override { max_frame_ = n; }
  bool is_open() const override { return !closed_; }
  size_t queued_bytes() const override { return pending_.size() + writing_.size(); }
  void set_budget(std::shared_ptr<BufferBudget> budget) override { budget_ = std::move(budget); }
  std::chrono::steady_clock::time_point last_read() const override { return last_read_; }
  std::optional<std::chrono::steady_clock::time_point> partial_since() const override {
    return partial_since_;
  }
  Socket& socket() { return socket_; }

  void set_paused(bool paused) override {
    paused_ = paused;
    if (paused_ || !read_parked_ || closed_) return;
    read_parked_ = false;
    {
      WriteBatch batch;  // as for a read: what these frames send, in one write
      if (!ParseFrames()) return;
    }
    ReadMore();
  }

  void WriteDeferred() override {
    write_deferred_ = false;
    Flush();
  }

 private:
  // Makes room for the next read: at most chunk_ bytes beyond what was
  // received, so memory follows the bytes that arrive whatever length a
  // frame announces. Capacity grows geometrically (amortised copies) but
  // never past the end of the frame being received. False: over budget.
  bool GrowForRead() {
    const size_t want = in_len_ + chunk_;
    if (in_.size() >= want) return true;
    if (want > in_.capacity()) {
      size_t cap = std::max(want, std::min(2 * in_.capacity(), std::max(want, frame_end_)));
      if (!Charge(cap, queued_bytes())) return false;
      in_.reserve(cap);
    }
    in_.resize(want);
    return true;
  }

  // Brings the budget charge to what is held for (read capacity, output
  // queue) beyond the free allowance. False (nothing changed) if the budget
  // cannot give the increase.
  bool Charge(size_t read_capacity, size_t queued) {
    if (!budget_ || closed_) return true;
    const size_t want = (read_capacity > kFreeRead ? read_capacity - kFreeRead : 0) +
                        (queued > kFreeQueue ? queued - kFreeQueue : 0);
    if (want > charged_ && !budget_->Take(want - charged_)) return false;
    if (want < charged_) budget_->Give(charged_ - want);
    charged_ = want;
    return true;
  }
  void Uncharge() {
    if (budget_) budget_->Give(charged_);
    charged_ = 0;
  }

  void ReadMore() {
    if (closed_) return;
    if (paused_) {
      read_parked_ = true;  // set_paused(false) goes on from here
      return;
    }
    // Start small (thousands of idle connections cost little) and grow
    // while reads fill the buffer.
    if (!GrowForRead()) {
      return Close(Status(Code::kResourceExhausted, "node buffer budget exhausted"));
    }
    auto self = this->shared_from_this();
    socket_.async_read_some(
        asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
        [self](const asio::error_code& ec, size_t n) {
          // A TLS peer that closes without close_notify ends its stream
          // like a TCP peer that closes: both are a goodbye, not an error.
          if (ec) {
            bool goodbye = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
            return self->Close(goodbye ? Status::Ok() : Status(Code::kIo, ec.message()));
          }
          if (n == self->in_.size() - self->in_len_) {
            self->chunk_ = std::min(self->chunk_ * 2, kReadChunk);
          }
          self->in_len_ += n;
          self->last_read_ = std::chrono::steady_clock::now();
          if (!self->partial_since_) self->partial_since_ = self->last_read_;
          {
            // What these frames make any stream send leaves in one write
            // per stream, before this stream reads again.
            WriteBatch batch;
            if (!self->ParseFrames()) return;
          }
          if (n < kFirstChunk && self->in_len_ == 0 && self->in_.size() > kFirstChunk) {
            // The burst is over: an idle stream keeps a small buffer only.
            Bytes().swap(self->in_);
            self->chunk_ = kFirstChunk;
            self->Charge(0, self->queued_bytes());
          }
          self->ReadMore();
        });
  }

  // "a LOAD_MODULE" once the type byte of the frame at `pos` has arrived,
  // else "a": for a refusal's message (a LOAD_MODULE too large is a module
  // binary over the limit).
  std::string FrameKind(size_t pos) const {
    if (in_len_ - pos <= wire::kFrameHeaderSize) return "a";
    const uint8_t type = in_[pos + wire::kFrameHeaderSize];
    if (!wire::IsKnownType(type)) return "a";
    return std::string("a ") + wire::TypeName(static_cast<wire::MsgType>(type));
  }

  // Delivers every complete frame in the buffer. Returns false if closed.
  bool ParseFrames() {
    size_t pos = 0;
    while (!closed_ && !paused_ && in_len_ - pos >= wire::kFrameHeaderSize) {
      uint32_t len;
      Status s = wire::ParseFrameLength(ByteSpan(in_.data() + pos, wire::kFrameHeaderSize), &len);
      if (s.code() == Code::kResourceExhausted || (s.ok() && len > max_frame_)) {
        // Both sizes, for the node's log (wire/frame.cc stays small: it is
        // in every module's TCB).
        const uint32_t announced = LoadU32(in_.data() + pos);
        s = Status(Code::kResourceExhausted,
                   FrameKind(pos) + " frame of " + std::to_string(announced) +
                       " bytes, more than the " +
                       std::to_string(std::min(max_frame_, wire::kMaxFrameBody)) +
                       " this session accepts");
      }
      if (!s.ok()) {
        Close(s);
        return false;
      }
      if (in_len_ - pos < wire::kFrameHeaderSize + len) {
        // Incomplete: the buffer grows as the rest arrives (GrowForRead).
        frame_end_ = wire::kFrameHeaderSize + len;
        break;
      }
      auto frame = wire::ParseFrameBody(ByteSpan(in_.data() + pos + wire::kFrameHeaderSize, len));
      pos += wire::kFrameHeaderSize + len;
      if (!frame.ok()) {
        Close(frame.status());
        return false;
      }
      on_frame_(*frame);
    }
    if (closed_) return false;
    // The deadline of a frame starts with its first byte.
    if (in_len_ == pos) {
      partial_since_.reset();
      frame_end_ = 0;
    } else if (pos > 0) {
      partial_since_ = last_read_;
    }
    if (in_len_ - pos < wire::kFrameHeaderSize) frame_end_ = 0;
    if (pos > 0) {
      std::copy(in_.begin() + static_cast<std::ptrdiff_t>(pos),
                in_.begin() + static_cast<std::ptrdiff_t>(in_len_), in_.begin());
      in_len_ -= pos;
      // Give back a large buffer once the big frame that needed it is gone.
      if (in_.size() > 4 * kReadChunk && in_len_ < kReadChunk) {
        in_.resize(kReadChunk);
        in_.shrink_to_fit();
        Charge(in_.capacity(), queued_bytes());
      }
    }
    return true;
  }

  // Starts the write now, or when the open WriteBatch closes.
  void FlushSoon() {
    if (write_deferred_ || writing_active_) return;  // the batch or the write's end sends it
    if (WriteBatch::Defer(this->shared_from_this())) {
      write_deferred_ = true;
      return;
    }
    Flush();
  }

  void Flush() {
    if (writing_active_ || pending_.empty() || closed_) return;
    if constexpr (internal::kWritesDirectly<Socket>) {
      if (WriteNow()) return;
    }
    writing_.swap(pending_);
    writing_active_ = true;
    auto self = this->shared_from_this();
    asio::async_write(socket_, asio::buffer(writing_),
                      [self](const asio::error_code& ec, size_t) {
                        self->writing_active_ = false;
                        self->writing_.clear();
                        self->Charge(self->in_.capacity(), self->queued_bytes());
                        if (ec) return self->Close(Status(Code::kIo, ec.message()));
                        if (self->pending_.empty() && self->writing_.capacity() > kReadChunk) {
                          Bytes().swap(self->writing_);  // idle: give a burst's buffer back
                        }
                        self->Flush();
                      });
  }

  // A direct Socket's first write attempt, made here rather than by
  // async_write: an asynchronous write that completes at once still posts
  // its completion, which costs the loop one more epoll_wait (with a zero
  // timeout) per pass. True if all was written; else what is left (all of
  // it on an error, which the asynchronous write then meets and reports:
  // never closes here, inside the caller's Send).
  bool WriteNow() {
    asio::error_code ec;
    if (!non_blocking_) {
      socket_.non_blocking(true, ec);
      if (ec) return false;
      non_blocking_ = true;
    }
    const size_t n = socket_.write_some(asio::buffer(pending_), ec);
    if (ec) return false;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    if (!pending_.empty()) return false;
    Charge(in_.capacity(), queued_bytes());
    if (pending_.capacity() > kReadChunk) Bytes().swap(pending_);  // a burst's buffer
    return true;
  }

  static constexpr size_t kReadChunk = 256 * 1024;
  static constexpr size_t kFirstChunk = 4 * 1024;
  // Held without charge to a budget: enough for a management exchange, so a
  // deployer's STATUS gets through while hostile streams hold the budget.
  static constexpr size_t kFreeRead = kFirstChunk;
  static constexpr size_t kFreeQueue = 16 * 1024;

  Socket socket_;
  size_t max_queued_;
  size_t max_frame_ = wire::kMaxFrameBody;
  size_t chunk_ = kFirstChunk;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  Bytes in_;
  size_t in_len_ = 0;
  size_t frame_end_ = 0;  // length of the partly received head frame; 0: unknown
  std::shared_ptr<BufferBudget> budget_;
  size_t charged_ = 0;  // taken from budget_
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> partial_since_;
  Bytes pending_;
  Bytes writing_;
  bool writing_active_ = false;
  bool write_deferred_ = false;  // waits for the open WriteBatch
  bool paused_ = false;          // set_paused: no frame delivered, nothing read
  bool read_parked_ = false;     // ReadMore was due while paused
  bool non_blocking_ = false;    // kWritesDirectly: the socket is set non-blocking
  bool closed_ = false;
};

using TcpStream = FrameStream<asio::ip::tcp::socket>;
using TlsSocket = asio::ssl::stream<asio::ip::tcp::socket>;
using TlsStream = FrameStream<TlsSocket>;
using UnixStream = FrameStream<asio::local::stream_protocol::socket>;

}  // namespace aex::node

#endif  // AEX_NODE_FRAME_STREAM_H_
