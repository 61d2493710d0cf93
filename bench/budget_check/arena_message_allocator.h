// ArenaMessageAllocator: a gRPC callback-API MessageAllocator that puts one unary RPC's request
// and response, and everything nested in them, on a protobuf Arena that lives as long as the
// call.
//
// Used by empty_server's canned Check, so that "canned" measures the messages built the best
// typed way (one allocation per call instead of a few dozen malloc/free pairs for the response's
// cap statuses and strings). The collector once served CheckBudget this way; it now writes the
// response bytes directly (server/transport/check_response_encoding.h).
//
// Thread safety: AllocateMessages may be called from any thread (it keeps no state).
// Lifetime: gRPC calls Release() once per call after the response is sent; the allocator
// itself must outlive the server (gRPC's rule for registered allocators).
#ifndef STEPLEDGER_BENCH_BUDGET_CHECK_ARENA_MESSAGE_ALLOCATOR_H_
#define STEPLEDGER_BENCH_BUDGET_CHECK_ARENA_MESSAGE_ALLOCATOR_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

#include <cstddef>

namespace stepledger::bench {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  // Big enough for a CheckBudget request and a response with a handful of caps, so the arena
  // never goes back to malloc for a typical call; larger messages just get more blocks.
  static constexpr size_t kInlineBlockBytes = 4096;

  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(ArenaOptionsFor(block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions ArenaOptionsFor(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kInlineBlockBytes;
      return options;
    }

    // Declared before arena_: the arena is built on it and destroyed before it.
    alignas(std::max_align_t) char block_[kInlineBlockBytes];
    google::protobuf::Arena arena_;
  };
};

}  // namespace stepledger::bench

#endif  // STEPLEDGER_BENCH_BUDGET_CHECK_ARENA_MESSAGE_ALLOCATOR_H_
