export default function Home() {
  return <main>legacy-next: the app cutover migrates away from.</main>;
}
