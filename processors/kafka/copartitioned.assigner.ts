import { AssignerProtocol, PartitionAssigner } from 'kafkajs';

/**
 * Assigns partition p of EVERY subscribed topic to the same member. The input topics are keyed by
 * "<platform>:<channelId>" with the same partition count, so a channel's snapshots, followers, chat and
 * lifecycle events all land in partition p; the default round-robin assigner would scatter them over
 * members and no member could close a channel's windows. Members are sorted by id so every member
 * computes the same plan; partition numbers are dealt round-robin.
 */
export const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'SpaceHubCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const partitionCount = Math.max(0, ...topics.map((t) => cluster.findTopicPartitionMetadata(t).length));
    const plan = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    for (let p = 0; p < partitionCount; p++) {
      const owner = plan.get(memberIds[p % memberIds.length]!)!;
      for (const topic of topics) {
        if (p >= cluster.findTopicPartitionMetadata(topic).length) continue;
        (owner[topic] ??= []).push(p);
      }
    }
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: plan.get(memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'SpaceHubCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});
