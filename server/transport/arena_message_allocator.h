// ArenaMessageAllocator: a gRPC callback-API MessageAllocator that puts one unary RPC's request
// and response, and everything nested in them, on a protobuf Arena that lives as long as the
// call.
//
// Why: a CheckBudget answer has one message and three strings per matching cap, and a request
// has its tags; on the heap that is a few dozen malloc/free pairs per call, which measured as
// several microseconds of the collector's CPU per check next to a ~25 us gRPC floor
// (docs/PERFORMANCE.md, "bench/budget_check"). On an arena it is one allocation (the holder,
// whose first arena block is inline) and one free when the call is done.
//
// Thread safety: AllocateMessages may be called from any thread (it keeps no state).
// Lifetime: gRPC calls Release() once per call after the response is sent; the allocator
// itself must outlive the server (gRPC's rule for registered allocators).
#ifndef STEPLEDGER_SERVER_TRANSPORT_ARENA_MESSAGE_ALLOCATOR_H_
#define STEPLEDGER_SERVER_TRANSPORT_ARENA_MESSAGE_ALLOCATOR_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

#include <cstddef>

namespace stepledger::transport {

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

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_ARENA_MESSAGE_ALLOCATOR_H_
