import { OrderBook } from 'nodejs-order-book';
const ob = new OrderBook();
console.log(ob.limit({ side: 'buy' as never, id: 'a', size: 5, price: 100 }));
