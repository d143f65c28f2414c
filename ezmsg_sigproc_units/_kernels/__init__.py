"""Pure array kernels: arrays and a namespace ``xp`` in, arrays out. No messages, no Units,
no backend library named; state goes in and comes back out."""
