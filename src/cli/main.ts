console.log('raftex: CLI not built yet');
