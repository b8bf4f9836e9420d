import { ThreadList } from '@/components/chat/ThreadList';

export const metadata = { title: 'Conversations' };

export default function ChatPage() {
  return (
    <main>
      <h1>Conversations</h1>
      <ThreadList />
    </main>
  );
}
